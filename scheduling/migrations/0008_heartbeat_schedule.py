from django.db import migrations
from django.utils import timezone

NAME = "clearway: worker heartbeat"


def create(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.update_or_create(
        name=NAME,
        defaults={
            "func": "scheduling.tasks.heartbeat",
            "schedule_type": "I",
            "minutes": 1,
            "repeats": -1,
            "next_run": timezone.now(),
        },
    )


def remove(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0007_token_user")]

    operations = [migrations.RunPython(create, remove)]

"""Every 15 minutes, evaluate again the jobs held by a window that has ended."""

from django.db import migrations
from django.utils import timezone

NAME = "clearway: jobs held by a passed window"


def create(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.update_or_create(
        name=NAME,
        defaults={
            "func": "scheduling.tasks.reevaluate_passed",
            "schedule_type": "I",
            "minutes": 15,
            "repeats": -1,
            "next_run": timezone.now(),
        },
    )


def remove(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0019_team_webhook_url_http")]

    operations = [migrations.RunPython(create, remove)]

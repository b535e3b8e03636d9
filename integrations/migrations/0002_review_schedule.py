from django.db import migrations
from django.utils import timezone

NAME = "clearway: GitHub deployment reviews"


def create(apps, schema_editor):
    # One schedule for every waiting review: it claims due rows one at a time
    # (integrations.services.deployment_reviews_process_due).
    apps.get_model("django_q", "Schedule").objects.update_or_create(
        name=NAME,
        defaults={
            "func": "integrations.tasks.process_deployment_reviews",
            "schedule_type": "I",
            "minutes": 1,
            "repeats": -1,
            "next_run": timezone.now(),
        },
    )


def remove(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("integrations", "0001_initial"), ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more")]

    operations = [migrations.RunPython(create, remove)]

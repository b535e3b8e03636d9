from django.db import migrations
from django.utils import timezone

SCHEDULES = [
    ("clearway: watch runs", "operations.tasks.watch_runs"),
    ("clearway: watch databases", "operations.tasks.watch_databases"),
]


def create(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    for name, func in SCHEDULES:
        Schedule.objects.update_or_create(
            name=name,
            defaults={
                "func": func,
                "schedule_type": "I",
                "minutes": 1,
                "repeats": -1,
                "next_run": timezone.now(),
            },
        )


def remove(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(
        name__in=[name for name, _ in SCHEDULES]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("operations", "0001_runs_and_monitors"), ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more")]

    operations = [migrations.RunPython(create, remove)]

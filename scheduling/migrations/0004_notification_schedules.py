from django.db import migrations
from django.utils import timezone

SCHEDULES = [
    ("clearway: retry notifications", "scheduling.tasks.retry_deliveries", 1),
    ("clearway: window starts in 24 h", "scheduling.tasks.notify_upcoming_windows", 15),
]


def create(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    for name, func, minutes in SCHEDULES:
        Schedule.objects.update_or_create(
            name=name,
            defaults={
                "func": func,
                "schedule_type": "I",
                "minutes": minutes,
                "repeats": -1,
                "next_run": timezone.now(),
            },
        )


def remove(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(
        name__in=[name for name, _, _ in SCHEDULES]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0003_workflow")]

    operations = [migrations.RunPython(create, remove)]

"""Recurring blackouts roll on to the horizon inside scheduling's daily roll.

Their own daily schedule ran at an hour of its own: the jobs it reached were
evaluated against allowed windows not yet rolled (and the other way round).
scheduling.tasks.refresh_horizon now rolls them (settings.CLEARWAY_HORIZON_ROLLS).
"""

from django.db import migrations
from django.utils import timezone

NAME = "clearway: refresh blackout occurrences"


def remove(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


def restore(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.update_or_create(
        name=NAME,
        defaults={
            "func": "blackouts.tasks.refresh_horizon",
            "schedule_type": "D",
            "repeats": -1,
            "next_run": timezone.now(),
        },
    )


class Migration(migrations.Migration):
    dependencies = [("blackouts", "0002_daily_schedule")]

    operations = [migrations.RunPython(remove, restore)]

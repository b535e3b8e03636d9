"""One django-q2 schedule claims due deadline feeds every minute.

Each feed's own `next_sync_at` says when it is due (STYLE habit 4), not a
schedule per feed: django-q2 reads every schedule in one cluster-wide zone
and replays missed runs after downtime, and feeds come and go at runtime.
"""

from django.db import migrations
from django.utils import timezone

NAME = "clearway: sync deadline feeds"


def create(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.update_or_create(
        name=NAME,
        defaults={
            "func": "deadlines.tasks.sync_due_feeds",
            "schedule_type": "I",
            "minutes": 1,
            "repeats": -1,
            "next_run": timezone.now(),
        },
    )


def remove(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("deadlines", "0002_deadline_feeds"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create, remove)]

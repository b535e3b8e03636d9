"""The hourly check that the stored timeline matches a rebuild from the raw calendars."""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from operations.models import TimelineCheck
from scheduling.timeline.services import timeline_differences

KEEP = timedelta(days=7)
SHOWN = 50


@transaction.atomic
def timeline_check_record(*, now: datetime | None = None) -> TimelineCheck:
    """Compare, record the outcome (at most SHOWN differences listed), prune old checks."""
    now = now or timezone.now()
    differences = timeline_differences(limit=SHOWN)
    check = TimelineCheck.objects.create(
        checked_at=now, differences=len(differences), detail="\n".join(differences)
    )
    TimelineCheck.objects.filter(checked_at__lt=now - KEEP).delete()
    return check

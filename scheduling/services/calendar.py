"""The calendar version: every change to what a decision depends on records a row."""

from datetime import timedelta

from django.utils import timezone

from scheduling.models import CalendarChange


def calendar_change_record(*, reason: str) -> None:
    """Record a change (inside the caller's transaction): cached windows go stale."""
    CalendarChange.objects.create(reason=reason[:300])


def calendar_changes_prune(*, keep: timedelta = timedelta(days=7)) -> int:
    """Drop old log rows; the most recent one always stays."""
    newest = CalendarChange.objects.order_by("-id").values_list("id", flat=True).first()
    deleted, _ = (
        CalendarChange.objects.filter(at__lt=timezone.now() - keep).exclude(id=newest).delete()
    )
    return deleted

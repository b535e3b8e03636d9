"""The calendar version: every change to what a decision depends on records a row."""

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.utils import timezone

from scheduling.models import CalendarChange
from scheduling.queue import enqueue
from scheduling.services.calendar_batch import Window, active_batch
from scheduling.timeline.bulk import per_system, timeline_refresh_windows
from scheduling.timeline.services import RANGE_KINDS, timeline_refresh_range


def calendar_change_record(*, reason: str) -> None:
    """Record a change (inside the caller's transaction): cached windows go stale."""
    CalendarChange.objects.create(reason=reason[:300])


def calendar_changed(
    *,
    start: datetime,
    end: datetime,
    systems: Iterable[str] | None,
    reason: str,
    kinds: Iterable[str] = RANGE_KINDS,
) -> None:
    """Called by every service that changes a calendar, inside its transaction.

    `systems` None means all systems. The stored timeline's rows of `kinds`
    (blackouts, deadline traffic) inside [start, end) are rewritten here, in
    the same transaction; the re-evaluation runs as a task after it commits.
    """
    systems = list(systems) if systems is not None else None
    if (batch := active_batch()) is not None:
        batch.windows.append(Window(start, end, None if systems is None else set(systems)))
        batch.kinds.update(kinds)
        batch.reasons += 1
        return
    calendar_change_record(reason=reason)
    timeline_refresh_range(start=start, end=end, systems=systems, kinds=kinds)
    enqueue(
        "scheduling.tasks.reevaluate_jobs",
        start=start.isoformat(),
        end=end.isoformat(),
        systems=sorted(systems) if systems is not None else None,
        reason=reason,
    )


def calendar_changed_windows(*, windows: list[Window], kinds: Iterable[str], reason: str) -> None:
    """One change over many windows (a bulk write): one row, one refresh, one task.

    The timeline and the re-evaluation both take each system's own merged
    windows: a deadline on two systems does not make the others' rows or
    jobs in its window count as changed.
    """
    calendar_change_record(reason=reason)
    changed = [(w.start, w.end, w.systems) for w in windows]
    timeline_refresh_windows(windows=changed, kinds=kinds)
    enqueue(
        "scheduling.tasks.reevaluate_windows",
        windows=[
            [start.isoformat(), end.isoformat(), None if slug is None else [slug]]
            for slug, spans in sorted(per_system(changed).items(), key=lambda i: i[0] or "")
            for start, end in spans
        ],
        reason=reason,
    )


def _slugs(systems: set[str] | None) -> list[str] | None:
    return None if systems is None else sorted(systems)


def calendar_changes_prune(*, keep: timedelta = timedelta(days=7)) -> int:
    """Drop old log rows; the most recent one always stays."""
    newest = CalendarChange.objects.order_by("-id").values_list("id", flat=True).first()
    if newest is None:
        return 0
    deleted, _ = (
        CalendarChange.objects.filter(at__lt=timezone.now() - keep).exclude(id=newest).delete()
    )
    return deleted

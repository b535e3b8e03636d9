"""Reads of the change freezes: which freezes close which systems, when.

Every question about a freeze (the window source, submit's refusal, the
freeze page and API, the calendars) goes through `freeze_intervals`, so the
answer can come from a stored timeline later without its callers changing.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q

from scheduling import recurrence
from scheduling.engine import FAR_FUTURE
from scheduling.models import Freeze

_INSTANT = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class FreezeInterval:
    """One stretch of one freeze, in UTC; `systems` empty means all systems."""

    freeze_id: int
    start: datetime
    end: datetime
    systems: frozenset[str]
    reason: str
    by: str

    def touches(self, systems: frozenset[str] | None) -> bool:
        return systems is None or not self.systems or not self.systems.isdisjoint(systems)


def _live(*, start: datetime, end: datetime):
    """Freezes not called off that may cover part of [start, end)."""
    one_off = Q(rrule="") & (Q(end__isnull=True) | Q(end__gt=start))
    # A recurring freeze's `end` is its first occurrence's: later ones go on.
    return (
        Freeze.objects.filter(cancelled_at__isnull=True, start__lt=end)
        .filter(one_off | ~Q(rrule=""))
        .select_related("created_by")
        .prefetch_related("systems")
    )


def _stretches(
    freeze: Freeze, *, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    if not freeze.rrule:
        return [(freeze.start, freeze.end or FAR_FUTURE)]
    # A rule without COUNT or UNTIL is expanded up to a stored bound (the
    # horizon when scheduled, rolled daily), so the timeline and a rebuild agree.
    horizon = freeze.expanded_until or max(freeze.created_at, freeze.start) + timedelta(
        days=settings.CLEARWAY_HORIZON_DAYS
    )
    if start >= min(end, horizon):
        return []
    return [
        (o.start, o.end)
        for o in recurrence.expand(
            rrule_text=freeze.rrule,
            start=freeze.start,
            end=freeze.end,
            zone_name=freeze.timezone,
            after=start,
            before=min(end, horizon),
            cap=settings.CLEARWAY_MAX_RULE_OCCURRENCES,
        )
    ]


def freeze_intervals(
    *, start: datetime, end: datetime, systems: Iterable[str] | None = None
) -> list[FreezeInterval]:
    """Every freeze stretch overlapping [start, end) that touches `systems` (None: any)."""
    wanted = frozenset(systems) if systems is not None else None
    found = []
    for freeze in _live(start=start, end=end):
        scope = frozenset(s.slug for s in freeze.systems.all())
        by = freeze.created_by.get_username() if freeze.created_by else ""
        for lo, hi in _stretches(freeze, start=start, end=end):
            interval = FreezeInterval(freeze.pk, lo, hi, scope, freeze.reason, by)
            if lo < end and hi > start and interval.touches(wanted):
                found.append(interval)
    return sorted(found, key=lambda i: (i.start, i.freeze_id))


def freeze_covering(
    *, windows: Iterable[tuple[datetime, datetime]], systems: Iterable[str] | None
) -> list[FreezeInterval]:
    """The freeze stretches that overlap any of `windows` on `systems`."""
    windows = list(windows)
    if not windows:
        return []
    candidates = freeze_intervals(
        start=min(s for s, _ in windows), end=max(e for _, e in windows), systems=systems
    )
    return [i for i in candidates if any(i.start < e and i.end > s for s, e in windows)]


def freeze_active(*, at: datetime, systems: Iterable[str] | None = None) -> FreezeInterval | None:
    """The freeze covering `at` on `systems`, if any."""
    return next(iter(freeze_covering(windows=[(at, at + _INSTANT)], systems=systems)), None)


def manual_freeze(*, at: datetime) -> Freeze | None:
    """The freeze the manual switch controls: open-ended, on every system, started by `at`."""
    return (
        Freeze.objects.filter(
            cancelled_at__isnull=True, rrule="", end__isnull=True, start__lte=at, systems=None
        )
        .select_related("created_by")
        .order_by("start", "pk")
        .first()
    )


def freeze_list(*, include_past: bool = True, now: datetime) -> list[Freeze]:
    """Freezes for the page and the API, newest first; called-off ones are kept."""
    freezes = Freeze.objects.select_related("created_by", "lifted_by", "cancelled_by")
    if not include_past:
        freezes = freezes.filter(Q(end__isnull=True) | Q(end__gt=now) | ~Q(rrule=""))
    return list(freezes.prefetch_related("systems").order_by("-start", "-pk"))


def freeze_message(interval: FreezeInterval) -> str:
    by = f" by {interval.by}" if interval.by else ""
    return f"A change freeze is on{by}: {interval.reason or 'no reason given'}."

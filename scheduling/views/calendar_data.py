"""What the calendar shows, as plain values: items per day, per system, and traffic.

Jobs come from `scheduling`'s own tables; blackouts, deadlines and the freeze
come through the configured window sources (conflicts.busy_windows), so this
module never imports the other apps' models.
"""

import itertools
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.conf import settings

from scheduling import conflicts
from scheduling.choices import BOOKED_STATUSES, FindingKind, JobStatus, Severity
from scheduling.engine import BusyWindow
from scheduling.models import JobOccurrence
from scheduling.timeline.build import gaps, merge

# Drafts and conflicted jobs are drawn too (with their own legend): they are
# plans someone is about to make, or ones the calendar now refuses.
SHOWN_STATUSES = (*BOOKED_STATUSES, JobStatus.DRAFT, JobStatus.CONFLICTED)


@dataclass(frozen=True)
class Item:
    kind: str  # maintenance, blackout, deadline
    start: datetime
    end: datetime
    title: str
    url: str
    team: str
    systems: frozenset[str]  # empty: every system
    status: str = ""  # a job's status; a blackout's severity
    label: str = ""
    # The systems it is on when it reaches the shown ones only through a
    # dependency (a deadline on grading-api shown on grading-db's calendar).
    via: tuple[str, ...] = ()
    # A job's booked systems (`systems` are those it impacts, dependents included).
    booked: frozenset[str] = frozenset()

    def reaches(self, reach: frozenset[str]) -> bool:
        """Whether it is on every system or on one of `reach` (systems and their dependents)."""
        return not self.systems or bool(self.systems & reach)

    def origin(self, shown: frozenset[str]) -> tuple[str, ...]:
        """Where it is (a job: booked), when that is none of `shown`: it reaches
        them through a dependency. Maintenance on grading-db impacts grading-api,
        and grading-api's calendar says it is on grading-db."""
        where = self.booked or self.systems
        return tuple(sorted(where)) if where and not where & shown else ()


@dataclass
class Segment:
    start: datetime
    end: datetime
    load: int
    level: str = ""
    outside: bool = False  # an hour (partly) outside an allowed window: refused


@dataclass(frozen=True)
class Outside:
    """The time in which change is refused for falling outside the allowed
    maintenance window of the systems `of`: merged stretches in the shown range."""

    stretches: list[tuple[datetime, datetime]] = field(default_factory=list)
    of: tuple[str, ...] = ()


class Collected(NamedTuple):
    items: list[Item]
    deadlines: list[BusyWindow]
    outside: list[BusyWindow]  # the gaps between systems' allowed windows
    freeze: BusyWindow | None


@dataclass
class Day:
    date: date
    start: datetime
    end: datetime
    items: list[Item] = field(default_factory=list)
    peak: int = 0
    level: str = ""
    in_month: bool = True
    # One per local hour (23 or 25 on a DST day): the hour's peak and level,
    # the same step function /checks folds, so a red hour is a refused hour.
    hours: list[Segment] = field(default_factory=list)
    # Its stretches outside the shown systems' allowed windows, and the rest.
    outside: list[tuple[datetime, datetime]] = field(default_factory=list)
    allowed: list[tuple[datetime, datetime]] = field(default_factory=list)


def traffic_level(load: int) -> str:
    if load >= settings.CLEARWAY_TRAFFIC_REFUSE:
        return Severity.REFUSE
    if load >= settings.CLEARWAY_TRAFFIC_FLAG:
        return Severity.FLAG
    return "low" if load else ""


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone)


def collect(*, systems: frozenset[str], start: datetime, end: datetime) -> Collected:
    """Items overlapping [start, end) on `systems`, the deadline windows, the time
    outside allowed windows, and a freeze."""
    items = _jobs(systems=systems, start=start, end=end)
    deadlines, outside, freeze = [], [], None
    for window in conflicts.busy_windows(systems=systems, start=start, end=end):
        if window.kind == FindingKind.FREEZE:
            freeze = window if window.start <= start else freeze
            if window.overlaps(start, end):
                items.append(
                    Item(
                        kind="freeze",
                        start=window.start,
                        end=min(window.end, end),
                        title=window.message,
                        url=window.url,
                        team="",
                        systems=window.systems,
                        status="refuse",
                        label="Change freeze",
                    )
                )
        elif window.kind == FindingKind.DEADLINE and window.overlaps(start, end):
            deadlines.append(window)
            due = window.start + settings.CLEARWAY_TRAFFIC_LEAD
            if start <= due < end:
                items.append(_deadline_item(window, due))
        elif window.kind == FindingKind.OUTSIDE_WINDOW and window.overlaps(start, end):
            outside.append(window)
        elif window.kind == FindingKind.BLACKOUT and window.overlaps(start, end):
            items.append(
                Item(
                    kind="blackout",
                    start=window.start,
                    end=window.end,
                    title=window.title,
                    url=window.url,
                    team=window.team,
                    systems=window.systems,
                    status=window.severity or "",
                    label="Blackout",
                )
            )
    items.sort(key=lambda i: (i.start, i.kind, i.title))
    return Collected(items, deadlines, outside, freeze)


def outside_of(
    windows: Iterable[BusyWindow], *, reach: frozenset[str], start: datetime, end: datetime
) -> Outside:
    """The time in [start, end) outside the allowed window of a system in `reach`
    (systems and their dependents): work on grading-db takes grading-api down
    too, so it must fit grading-api's window as well, as /checks says."""
    found = [w for w in windows if w.touches(reach) and w.overlaps(start, end)]
    return Outside(
        stretches=merge([(max(w.start, start), min(w.end, end)) for w in found]),
        of=tuple(sorted(frozenset().union(*(w.systems for w in found)))),
    )


def of_team(items: list[Item], *, team: str, reach: frozenset[str]) -> list[Item]:
    """What concerns a team: its own items, and anything on what `reach`es its
    systems (them and their dependents): a deadline on grading-api refuses work
    on grading-db, so grading-db's team sees it as grading-db's calendar does."""
    return [i for i in items if i.team == team or i.reaches(reach)]


def _deadline_item(window: BusyWindow, due: datetime) -> Item:
    return Item(
        kind="deadline",
        start=due,
        end=due,
        title=window.title,
        url=window.url,
        team=window.team,
        systems=window.systems,
        label="Deadline",
    )


def _jobs(*, systems: frozenset[str], start: datetime, end: datetime) -> list[Item]:
    occurrences = (
        JobOccurrence.objects.filter(
            start__lt=end,
            end__gt=start,
            job__status__in=SHOWN_STATUSES,
            job__impacted_systems__slug__in=systems,
        )
        .select_related("job", "job__team")
        .prefetch_related("job__systems", "job__impacted_systems")
        .distinct()
    )
    return [
        Item(
            kind="maintenance",
            start=o.start,
            end=o.end,
            title=f"#{o.job_id} {o.job.title}",
            url=f"/jobs/{o.job_id}/",
            team=o.job.team.slug,
            systems=frozenset(s.slug for s in o.job.impacted_systems.all()),
            booked=frozenset(s.slug for s in o.job.systems.all()),
            status=o.job.status,
            label=f"Maintenance ({o.job.get_status_display().lower()}, {o.job.change_type})",
        )
        for o in occurrences
    ]


def traffic_segments(
    windows: Iterable[BusyWindow], systems: Iterable[str]
) -> dict[str, list[Segment]]:
    """Per system, the runs of constant summed cohort load (zero-load runs left out)."""
    windows = list(windows)
    found: dict[str, list[Segment]] = {}
    for system in systems:
        edges: dict[datetime, int] = defaultdict(int)
        for window in windows:
            if window.touches(frozenset({system})):
                edges[window.start] += window.load
                edges[window.end] -= window.load
        segments, load, previous = [], 0, None
        for instant in sorted(edges):
            if previous is not None and load > 0 and instant > previous:
                segments.append(Segment(previous, instant, load, traffic_level(load)))
            load += edges[instant]
            previous = instant
        found[system] = segments
    return found


def days(
    *,
    first: date,
    count: int,
    zone: ZoneInfo,
    items: list[Item],
    traffic,
    month: int = 0,
    outside: Outside | None = None,
) -> list[Day]:
    """Local days with the items, the peak traffic (over the shown systems) and
    the time outside allowed windows of each."""
    result = []
    all_segments = [s for segments in traffic.values() for s in segments]
    stretches = outside.stretches if outside else []
    for offset in range(count):
        day = first + timedelta(days=offset)
        lo = local_midnight(day, zone)
        hi = local_midnight(day + timedelta(days=1), zone)
        entry = Day(date=day, start=lo, end=hi, in_month=not month or day.month == month)
        entry.items = [i for i in items if _on_day(i, lo, hi)]
        entry.peak = max((s.load for s in all_segments if s.start < hi and s.end > lo), default=0)
        entry.level = traffic_level(entry.peak)
        entry.outside = [(max(a, lo), min(b, hi)) for a, b in stretches if a < hi and b > lo]
        entry.allowed = gaps(entry.outside, start=lo, end=hi) if entry.outside else []
        entry.hours = _hours(lo, hi, all_segments, entry.outside)
        result.append(entry)
    return result


def _hours(lo: datetime, hi: datetime, segments: list[Segment], outside) -> list[Segment]:
    """The local hours of [lo, hi) (in UTC steps, so DST days have 23 or 25), each
    with the highest summed load any shown system carries in it, and whether
    any of it is outside an allowed window (work in it is refused)."""
    hours = []
    start = lo.astimezone(UTC)
    end = hi.astimezone(UTC)
    while start < end:
        step = min(start + timedelta(hours=1), end)
        peak = max((s.load for s in segments if s.start < step and s.end > start), default=0)
        out = any(a < step and b > start for a, b in outside)
        hours.append(Segment(start, step, peak, traffic_level(peak), outside=out))
        start = step
    return hours


def with_origins(items: list[Item], *, shown: frozenset[str]) -> list[Item]:
    """Mark the items that reach `shown` only through a dependency with where they are."""
    return [replace(item, via=item.origin(shown)) for item in items]


def envelope(segments: Iterable[Segment]) -> list[Segment]:
    """The highest load at each instant over several systems' segments."""
    segments = list(segments)
    edges = sorted({s.start for s in segments} | {s.end for s in segments})
    found: list[Segment] = []
    for lo, hi in itertools.pairwise(edges):
        load = max((s.load for s in segments if s.start < hi and s.end > lo), default=0)
        if not load:
            continue
        if found and found[-1].end == lo and found[-1].load == load:
            found[-1].end = hi
        else:
            found.append(Segment(lo, hi, load, traffic_level(load)))
    return found


def _on_day(item: Item, lo: datetime, hi: datetime) -> bool:
    if item.start == item.end:  # a deadline: an instant
        return lo <= item.start < hi
    return item.start < hi and item.end > lo


def position(start: datetime, end: datetime, lo: datetime, hi: datetime) -> tuple[float, float]:
    """Left offset and width, in percent of [lo, hi), of a window clipped to it."""
    span = (hi - lo).total_seconds()
    left = max((max(start, lo) - lo).total_seconds() / span * 100, 0.0)
    right = min((min(end, hi) - lo).total_seconds() / span * 100, 100.0)
    return round(left, 3), round(max(right - left, 0.4), 3)

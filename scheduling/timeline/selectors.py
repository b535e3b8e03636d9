"""Reads of the stored timeline: the engine's windows, and blocked intervals walked in order.

Two queries answer any window: the dependency closure of the systems asked
about (TimelineReach), then the rows on those systems overlapping the window.
Their cost follows what is in the window, not the size of the calendars.
"""

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Q

from scheduling.choices import HEAVY_IMPACTS, FindingKind, Impact, Severity
from scheduling.engine import BusyWindow, Thresholds
from scheduling.models import System, TimelineInterval, TimelineKind, TimelineReach
from scheduling.timeline.build import deadline_from_detail, merge

FIELDS = (
    "origin_id",
    "kind",
    "start",
    "end",
    "source",
    "severity",
    "load",
    "impact",
    "title",
    "message",
    "url",
    "team",
    "detail",
)


class Reached(frozenset):
    """Slugs, carrying the ids of the systems among them (for index-friendly reads),
    and, per system asked about, what it impacts (as `reach_of` answers)."""

    ids: dict[int, str]
    each: dict[str, frozenset[str]]


def reach(*, systems: Iterable[str]) -> frozenset[str]:
    """`systems` plus every system they impact (their dependents, transitively): one read."""
    asked = frozenset(systems)
    found: dict[int, str] = {}
    each: dict[str, set[str]] = {slug: {slug} for slug in asked}
    for system, reached_id, reached_slug in TimelineReach.objects.filter(
        system__slug__in=asked
    ).values_list("system__slug", "reached_id", "reached__slug"):
        found[reached_id] = reached_slug
        each[system].add(reached_slug)
    # An unknown slug is still "asked about", as the engine's closure keeps it.
    reached = Reached(asked | frozenset(found.values()))
    reached.ids = found
    reached.each = {slug: frozenset(slugs) for slug, slugs in each.items()}
    return reached


def _ids(where: frozenset[str]) -> dict[int, str]:
    ids = getattr(where, "ids", None)
    if ids is None:
        ids = dict(System.objects.filter(slug__in=where).values_list("pk", "slug"))
    return ids


def reach_of(*, systems: Iterable[str]) -> dict[str, frozenset[str]]:
    """For each of `systems`, itself and what it impacts (its dependents): one read."""
    found: dict[str, set[str]] = defaultdict(set)
    for slug in systems:
        found[slug].add(slug)
    for slug, reached in TimelineReach.objects.filter(system__slug__in=list(found)).values_list(
        "system__slug", "reached__slug"
    ):
        found[slug].add(reached)
    return {slug: frozenset(reached) for slug, reached in found.items()}


# Each system's rows through its own GiST scan (origin = X AND range &&), and
# the all-systems rows through a partial GiST (migration 0012): one range scan
# over every system's rows, filtered afterwards, read hundreds of rows at scale
# 1.0 to keep a handful. The ids come out of one array, so the outer query
# (filters, order, limit) is a primary-key lookup of only those rows.
_OWN_ROWS = (
    '"scheduling_timelineinterval"."id" = ANY(ARRAY('
    "SELECT i.id FROM unnest({ids}) AS o(id) CROSS JOIN LATERAL ("
    "SELECT r.id FROM scheduling_timelineinterval r WHERE r.origin_id = o.id "
    "AND tstzrange(r.start, r.\"end\", '[)') && tstzrange({lo}, {hi}, '[)')) AS i "
    "UNION ALL SELECT g.id FROM scheduling_timelineinterval g WHERE g.origin_id IS NULL "
    "AND tstzrange(g.start, g.\"end\", '[)') && tstzrange({lo}, {hi}, '[)')))"
)


def own_rows(*, ids: str, lo: str, hi: str) -> str:
    """The PostgreSQL condition above, for the system ids and bounds given as SQL expressions."""
    return _OWN_ROWS.format(ids=ids, lo=lo, hi=hi)


def _rows(*, where: frozenset[str], start: datetime, end: datetime, extra: Q | None = None):
    ids = sorted(_ids(where))
    query = TimelineInterval.objects.filter(start__lt=end, end__gt=start)
    if connection.vendor == "postgresql":
        query = query.extra(  # noqa: S610 - constant SQL, values as parameters
            where=[own_rows(ids="%s::bigint[]", lo="%s", hi="%s")],
            params=[ids, start, end, start, end],
        )
    else:
        query = query.filter(Q(origin__isnull=True) | Q(origin_id__in=ids))
    if extra is not None:
        query = query.filter(extra)
    return query


def kinds(*, where: frozenset[str], start: datetime, end: datetime) -> set[str]:
    """Which kinds of row lie on `where` in [start, end) (traffic as "deadline"): one read."""
    rows = _rows(where=where, start=start, end=end).order_by()
    found = set(rows.values_list("kind", flat=True).distinct())
    return {FindingKind.DEADLINE if k == TimelineKind.TRAFFIC else k for k in found}


def maintenance_message(detail: dict, systems: frozenset[str]) -> str:
    impacted = frozenset(detail["impacted"])
    return (
        f"{detail['team_name']} has {detail['impact_display']} maintenance "
        f"'{detail['job_title']}' ({detail['status']}) on "
        f"{', '.join(sorted(impacted & systems))} at the same time."
    )


def windows(
    *, where: frozenset[str], start: datetime, end: datetime, exclude_job_id: int | None = None
) -> list[BusyWindow]:
    """The busy windows touching [start, end) on `where`, as the window sources report them."""
    rows = _rows(where=where, start=start, end=end).values_list(*FIELDS)
    return windows_from(
        rows, ids=_ids(where), where=where, start=start, end=end, exclude_job_id=exclude_job_id
    )


def windows_from(
    rows: Iterable[Sequence],
    *,
    ids: dict[int, str],
    where: frozenset[str],
    start: datetime,
    end: datetime,
    exclude_job_id: int | None = None,
) -> list[BusyWindow]:
    """Busy windows from stored rows (FIELDS, in the order of the model's ordering)."""
    own = f"job:{exclude_job_id}" if exclude_job_id is not None else None
    grouped: dict[tuple, dict] = {}
    origins: dict[tuple, set[str]] = defaultdict(set)
    deadlines: dict[str, list] = {}
    deadline_origins: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        fields = dict(zip(FIELDS, row, strict=True))
        origin = ids.get(fields["origin_id"])
        if fields["kind"] == TimelineKind.TRAFFIC:
            for item in fields["detail"]["deadlines"]:
                deadlines[item[0]] = item
                deadline_origins[item[0]].add(origin)
            continue
        if fields["source"] == own:
            continue
        key = (fields["kind"], fields["source"], fields["start"], fields["end"])
        grouped.setdefault(key, fields)
        if origin is not None:
            origins[key].add(origin)
    found = [_window(fields, frozenset(origins[key]), where) for key, fields in grouped.items()]
    for source, item in deadlines.items():
        window = deadline_from_detail(item, frozenset(deadline_origins[source]))
        if window.start < end and window.end > start:
            found.append(window)
    found.sort(key=lambda w: (w.start, w.kind, w.source))
    return found


def _window(fields: dict, systems: frozenset[str], where: frozenset[str]) -> BusyWindow:
    """One stored row (other than traffic) as its source reported it; `systems` its origins."""
    message = fields["message"]
    if fields["kind"] == FindingKind.MAINTENANCE:
        systems = frozenset(fields["detail"]["impacted"])
        message = maintenance_message(fields["detail"], where)
    return BusyWindow(
        kind=fields["kind"],
        start=fields["start"],
        end=fields["end"],
        systems=systems,
        title=fields["title"],
        source=fields["source"],
        url=fields["url"],
        team=fields["team"],
        severity=fields["severity"] or None,
        impact=fields["impact"] or None,
        message=message,
    )


# Rows per read of a walk, and the first stretch it reads: most questions are
# answered by the first read.
BATCH = 500
FIRST_STRETCH = timedelta(days=7)


def blocking(*, impact: str, thresholds: Thresholds, at_least: str, exclude: str | None) -> Q:
    """Rows that make work of `impact` get a finding of at least `at_least`."""
    refuse_only = at_least == Severity.REFUSE
    heavy = impact in HEAVY_IMPACTS
    if refuse_only:
        query = Q(kind__in=[TimelineKind.BLACKOUT, TimelineKind.FREEZE], severity=Severity.REFUSE)
        query |= Q(kind=TimelineKind.OUTSIDE_WINDOW, severity=Severity.REFUSE)
        if heavy:
            query |= Q(kind=TimelineKind.MAINTENANCE)
            query |= Q(kind=TimelineKind.TRAFFIC, load__gte=thresholds.refuse)
        else:
            query |= Q(kind=TimelineKind.MAINTENANCE, impact__in=list(HEAVY_IMPACTS))
    else:
        query = ~Q(kind=TimelineKind.TRAFFIC)
        if impact != Impact.NONE:
            query |= Q(kind=TimelineKind.TRAFFIC, load__gte=thresholds.flag)
    if exclude:
        query &= ~Q(source=exclude)
    return query


def blocked(
    *,
    where: frozenset[str],
    impact: str,
    thresholds: Thresholds,
    start: datetime,
    end: datetime,
    at_least: str = Severity.FLAG,
    exclude_job_id: int | None = None,
    backwards: bool = False,
    batch: int | None = None,
    only: frozenset[str] | None = None,
    first: list[tuple[datetime, datetime, int]] | None = None,
) -> Iterator[tuple[list[tuple[datetime, datetime]], datetime]]:
    """Merged blocked intervals inside [start, end), read a week (then longer) at a time.

    Each read asks for the rows overlapping one stretch, at most `batch` of
    them, earliest start first (backwards: latest end first), so it costs what
    is in the stretch, not in the horizon. Yields after each read the merged
    intervals so far and the frontier up to which they are complete: forward,
    no unread row starts before it; backwards, none ends after it. A caller
    that has its answer stops, so a slot next week costs one read. `only`
    keeps the rows of those finding kinds.

    `first` (read ahead with the question) is every blocking row overlapping
    [start, start + FIRST_STRETCH), fewer than a batch: it stands for the first read.
    """
    batch = batch or BATCH
    exclude = f"job:{exclude_job_id}" if exclude_job_id is not None else None
    condition: Q | None = None  # built at the first read: what was read ahead needs none
    intervals: list[tuple[datetime, datetime]] = []
    span = FIRST_STRETCH
    lo, hi = (max(start, end - span), end) if backwards else (start, min(end, start + span))
    last: tuple[datetime, int] | None = None
    if first is not None and (backwards or len(first) >= batch):
        first = None
    while True:
        if first is not None:
            # The first stretch lies inside what was read ahead: its rows, as a read would give.
            found = [(a, b, pk) for a, b, pk in first if a < hi and b > lo]
            first = None
        else:
            condition = condition or _walked(impact, thresholds, at_least, exclude, only)
            page = _rows(where=where, start=lo, end=hi, extra=condition)
            found = _page(page, after=last, backwards=backwards, batch=batch)
        intervals = merge(intervals + [(max(a, start), min(b, end)) for a, b, _ in found])
        if len(found) == batch:
            # More in this stretch: the next read carries on after the last row.
            a, b, pk = found[-1]
            last = (b, pk) if backwards else (a, pk)
            yield intervals, (b if backwards else a)
            continue
        yield intervals, (lo if backwards else hi)
        if (lo <= start) if backwards else (hi >= end):
            return
        span *= 4
        last = None
        lo, hi = (max(start, lo - span), lo) if backwards else (hi, min(end, hi + span))


def _walked(impact, thresholds, at_least, exclude, only: frozenset[str] | None) -> Q:
    """The rows a walk reads: what blocks, of the finding kinds `only` when given."""
    condition = blocking(impact=impact, thresholds=thresholds, at_least=at_least, exclude=exclude)
    if only is not None:
        # Stored kinds of the finding kinds asked for (a deadline is traffic).
        condition &= Q(
            kind__in=[TimelineKind.TRAFFIC if k == FindingKind.DEADLINE else k for k in only]
        )
    return condition


def _page(rows, *, after: tuple[datetime, int] | None, backwards: bool, batch: int) -> list:
    """(start, end, pk) of at most `batch` of `rows` in walk order, past the row `after`."""
    if after is not None:
        key, pk = after
        rows = rows.filter(
            Q(end__lt=key) | Q(end=key, pk__lt=pk)
            if backwards
            else Q(start__gt=key) | Q(start=key, pk__gt=pk)
        )
    order = ("-end", "-pk") if backwards else ("start", "pk")
    return list(rows.order_by(*order).values_list("start", "end", "pk")[:batch])


def blocked_all(**kwargs) -> list[tuple[datetime, datetime]]:
    """Every merged blocked interval in the range (one or a few reads)."""
    result: list[tuple[datetime, datetime]] = []
    for result, _ in blocked(**kwargs):  # noqa: B007 - the last answer is the whole range
        pass
    return result

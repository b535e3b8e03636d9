"""Evaluate a window against every calendar: gather busy windows, fold them.

This is the only place that calls the window sources; it knows them by the
dotted paths in settings.CLEARWAY_WINDOW_SOURCES, never by their models.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from scheduling import engine, window_cache
from scheduling.choices import Severity
from scheduling.engine import BusyWindow, Finding, Slot, Thresholds, WindowQuery
from scheduling.selectors import (
    cache_version,
    impacted_systems,
    refuse_unknown,
    system_list,
    system_names,
    team_systems,
)
from scheduling.timeline import gaps as timeline_gaps
from scheduling.timeline import round_trip
from scheduling.timeline import selectors as timeline


@dataclass(frozen=True)
class Evaluation:
    decision: str
    findings: list[Finding]
    impacted: frozenset[str]


@cache
def _load_sources(paths: tuple[str, ...]) -> tuple[Callable[..., Iterable[BusyWindow]], ...]:
    return tuple(import_string(path) for path in paths)


def window_sources() -> tuple[Callable[..., Iterable[BusyWindow]], ...]:
    return _load_sources(tuple(settings.CLEARWAY_WINDOW_SOURCES))


def thresholds() -> Thresholds:
    return Thresholds(flag=settings.CLEARWAY_TRAFFIC_FLAG, refuse=settings.CLEARWAY_TRAFFIC_REFUSE)


def raw_busy_windows(
    *, systems: frozenset[str], start: datetime, end: datetime
) -> list[BusyWindow]:
    """Every configured source's windows, straight from the raw calendars (the oracle)."""
    query = WindowQuery(start=start, end=end, systems=systems)
    return [w for source in window_sources() for w in source(query=query)]


def busy_windows(
    *,
    systems: frozenset[str],
    start: datetime,
    end: datetime,
    exclude_job_id: int | None = None,
    version: tuple | None = None,
) -> list[BusyWindow]:
    """Every busy window touching [start, end) on `systems`, from the stored timeline.

    With the per-process cache on, the range is widened to whole days so that
    nearby questions share an entry; the engine clips to what it was asked.
    """
    if not settings.CLEARWAY_TIMELINE:
        if not window_cache.enabled():
            windows = raw_busy_windows(systems=systems, start=start, end=end)
            return [w for w in windows if w.source != f"job:{exclude_job_id}"]
        lo, hi = window_cache.day_bucket(start, end)
        raw_key = ("raw", version or cache_version(), systems, lo, hi)
        cached = window_cache.windows.get_or_compute(
            raw_key, lambda: tuple(raw_busy_windows(systems=systems, start=lo, end=hi))
        )
        own = f"job:{exclude_job_id}"
        return [w for w in cached if exclude_job_id is None or w.source != own]
    if not window_cache.enabled():
        return timeline.windows(where=systems, start=start, end=end, exclude_job_id=exclude_job_id)
    lo, hi = window_cache.day_bucket(start, end)
    key = (version or cache_version(), systems, lo, hi, exclude_job_id)
    return list(
        window_cache.windows.get_or_compute(
            key,
            lambda: tuple(
                timeline.windows(where=systems, start=lo, end=hi, exclude_job_id=exclude_job_id)
            ),
        )
    )


def impacted(systems: Iterable[str], *, version: tuple | None = None) -> frozenset[str]:
    """The dependency closure of `systems`, cached per calendar version."""
    booked = frozenset(systems)
    if not settings.CLEARWAY_TIMELINE:
        compute = lambda: impacted_systems(systems=booked)  # noqa: E731
    else:
        compute = lambda: timeline.reach(systems=booked)  # noqa: E731
    if not window_cache.enabled():
        return compute()
    return window_cache.closures.get_or_compute((version or cache_version(), booked), compute)


def team_reach(*, team: str, version: tuple | None = None) -> frozenset[str]:
    """What concerns `team` besides its own items: the systems it owns and every
    system that depends on them, as `impacted` reaches a system's calendar (work
    on grading-db impacts grading-api, so a deadline on grading-api refuses it)."""
    owned = team_systems(team=team)
    return impacted(owned, version=version) if owned else frozenset()


def evaluate(
    *,
    systems: Iterable[str],
    start: datetime,
    end: datetime,
    impact: str,
    exclude_job: int | None = None,
    occurrences: Sequence[tuple[datetime, datetime]] | None = None,
    version: tuple | None = None,
    known: tuple[frozenset[str], list[BusyWindow]] | None = None,
) -> Evaluation:
    """Decision and findings for work of `impact` on `systems` (dependents included).

    Pass `occurrences` for a recurring job: each is decided on its own, and
    the decision is the worst of them. `known` is the closure and the busy
    windows of the whole span, already read (the job excluded) with the question.
    """
    windows_of = occurrences or [(start, end)]
    if known is not None:
        impacted_set, windows = known
    else:
        version = version or cache_version()
        impacted_set = impacted(systems, version=version)
        windows = busy_windows(
            systems=impacted_set,
            start=min(s for s, _ in windows_of),
            end=max(e for _, e in windows_of),
            exclude_job_id=exclude_job,
            version=version,
        )
    findings = engine.fold_occurrences(
        windows=windows,
        systems=impacted_set,
        occurrences=windows_of,
        impact=impact,
        thresholds=thresholds(),
    )
    return Evaluation(decision=engine.decide(findings), findings=findings, impacted=impacted_set)


def checked_systems(
    *, raw: list, start: datetime, end: datetime, exclude_job: int | None, version: tuple
) -> tuple[list[str], tuple[frozenset[str], list[BusyWindow]] | None]:
    """The systems a check names (an unknown one refused), and the `known` of
    evaluate when the names, the reach and the window's rows are read in one
    statement (round_trip.applies); None when evaluate reads them itself."""
    if not round_trip.applies():
        return system_list(raw=raw, version=version), None
    systems = system_names(raw=raw)
    ahead = round_trip.check_rows(systems=systems, start=start, end=end, exclude_job_id=exclude_job)
    refuse_unknown(sorted(set(systems) - ahead.known))
    return systems, (ahead.impacted, ahead.windows)


def next_clear(
    *,
    systems: Iterable[str],
    duration: timedelta,
    impact: str,
    after: datetime,
    before: datetime | None = None,
    limit: int = 5,
    exclude_job: int | None = None,
    align: timedelta | None = engine.QUARTER_HOUR,
    version: tuple | None = None,
    backwards: bool = False,
    impacted_set: frozenset[str] | None = None,
) -> list[Slot]:
    """The next clear windows of `duration` in [after, before), earliest first, one per gap.

    From the timeline, the blocked intervals are read forward from `after` a
    growing chunk at a time, and the search stops at the first `limit`
    fitting gaps. `backwards` finds the latest clear windows ending by
    `before` instead, latest first (people plan back from a deadline).
    """
    before = before or after + timedelta(days=settings.CLEARWAY_HORIZON_DAYS)
    version = version or cache_version()
    # A caller that has just evaluated the same systems passes their closure.
    impacted_set = impacted_set or impacted(systems, version=version)
    if not settings.CLEARWAY_TIMELINE:
        windows = busy_windows(
            systems=impacted_set,
            start=after,
            end=before,
            exclude_job_id=exclude_job,
            version=version,
        )
        blocked = engine.blocked_intervals(
            windows=windows,
            systems=impacted_set,
            impact=impact,
            thresholds=thresholds(),
            start=after,
            end=before,
        )
        return _slots(blocked, after, before, duration, limit, align, backwards)
    blocked = _clear_gaps(
        systems=impacted_set,
        impact=impact,
        after=after,
        before=before,
        duration=duration,
        limit=limit,
        align=align,
        exclude_job=exclude_job,
        backwards=backwards,
    )
    return _slots(blocked, after, before, duration, limit, align, backwards)


# Gaps asked for beyond `limit`: a gap only just long enough may not hold the
# duration once its start is rounded to a quarter hour.
_SPARE = 2


def _clear_gaps(
    *, systems, impact, after, before, duration, limit, align, exclude_job, backwards
) -> list[tuple[datetime, datetime]]:
    """The blocked picture in [after, before) as the complement of the first long
    enough gaps, read (usually once) until `limit` of them hold `duration` once
    aligned, or none are left. Nothing beyond the last gap read is needed."""
    found: list[tuple[datetime, datetime]] = []
    lo, hi = after, before
    while True:
        page = timeline_gaps.gaps(
            where=systems,
            impact=impact,
            thresholds=thresholds(),
            start=lo,
            end=hi,
            longer_than=duration,
            count=limit + _SPARE,
            exclude_job_id=exclude_job,
            backwards=backwards,
        )
        found += page
        fitting = [gap for gap in found if _holds(gap, duration, align, backwards)]
        if len(page) < limit + _SPARE or len(fitting) >= limit:
            break
        if backwards:
            hi = found[-1][0]
        else:
            lo = found[-1][1]
    blocked, cursor = [], after
    for gap_lo, gap_hi in sorted(found):
        if gap_lo > cursor:
            blocked.append((cursor, gap_lo))
        cursor = gap_hi
    if cursor < before:
        blocked.append((cursor, before))
    return blocked


def _holds(gap, duration, align, backwards) -> bool:
    lo, hi = gap
    if backwards:
        return (engine._floor(hi - duration, align) if align else hi - duration) >= lo
    return (engine.round_up(lo, align) if align else lo) + duration <= hi


def _slots(blocked, after, before, duration, limit, align, backwards) -> list[Slot]:
    if backwards:
        return engine.slots_before(
            blocked, after=after, before=before, duration=duration, limit=limit, align=align
        )
    gaps = engine.fitting_gaps(blocked, after=after, before=before, duration=duration, align=align)
    return engine.slots_in_gaps(gaps, duration=duration, limit=limit)


def refused_stretch(
    *,
    systems: frozenset[str],
    impact: str,
    at: datetime,
    start: datetime,
    end: datetime,
    first: list | None = None,
) -> tuple[tuple[datetime, datetime] | None, datetime | None]:
    """The stretch inside [start, end) in which change on `systems` is refused and
    that holds `at`, or None and the start of the next one (None: none before `end`).

    From the timeline the refusing rows are read forward from `start` only as
    far as the answer needs (`first`: the first stretch, read ahead).
    """
    if not settings.CLEARWAY_TIMELINE:
        closed = engine.blocked_intervals(
            windows=busy_windows(systems=systems, start=start, end=end),
            systems=systems,
            impact=impact,
            thresholds=thresholds(),
            start=start,
            end=end,
            at_least=Severity.REFUSE,
        )
        return _holding(closed, at)
    walk = timeline.blocked(
        where=systems,
        impact=impact,
        thresholds=thresholds(),
        start=start,
        end=end,
        at_least=Severity.REFUSE,
        first=first,
    )
    for closed, frontier in walk:
        holding, upcoming = _holding(closed, at)
        if (holding and holding[1] < frontier) or (upcoming and upcoming < frontier):
            break
    return holding, upcoming


def _holding(closed, at):
    holding = next(((lo, hi) for lo, hi in closed if lo <= at < hi), None)
    upcoming = None if holding else next((lo for lo, _ in closed if lo > at), None)
    return holding, upcoming


def kinds_present(*, systems: frozenset[str], start: datetime, end: datetime) -> set[str]:
    """The kinds of busy window on `systems` in [start, end), as finding kinds."""
    if not settings.CLEARWAY_TIMELINE:
        return {w.kind for w in busy_windows(systems=systems, start=start, end=end)}
    return timeline.kinds(where=systems, start=start, end=end)

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
from scheduling.engine import BusyWindow, Finding, Slot, Thresholds, WindowQuery
from scheduling.selectors import calendar_version, impacted_systems


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


def busy_windows(
    *,
    systems: frozenset[str],
    start: datetime,
    end: datetime,
    exclude_job_id: int | None = None,
    version: tuple | None = None,
) -> list[BusyWindow]:
    """Every source's windows touching [start, end) on `systems`, cached per calendar version."""
    lo, hi = window_cache.day_bucket(start, end)
    key = (version or calendar_version(), systems, lo, hi)

    def fetch() -> tuple[BusyWindow, ...]:
        query = WindowQuery(start=lo, end=hi, systems=systems)
        return tuple(w for source in window_sources() for w in source(query=query))

    windows = window_cache.windows.get_or_compute(key, fetch)
    if exclude_job_id is None:
        return list(windows)
    own = f"job:{exclude_job_id}"
    return [w for w in windows if w.source != own]


def impacted(systems: Iterable[str], *, version: tuple | None = None) -> frozenset[str]:
    """The dependency closure of `systems`, cached per calendar version."""
    booked = frozenset(systems)
    return window_cache.closures.get_or_compute(
        (version or calendar_version(), booked), lambda: impacted_systems(systems=booked)
    )


def evaluate(
    *,
    systems: Iterable[str],
    start: datetime,
    end: datetime,
    impact: str,
    exclude_job: int | None = None,
    occurrences: Sequence[tuple[datetime, datetime]] | None = None,
    version: tuple | None = None,
) -> Evaluation:
    """Decision and findings for work of `impact` on `systems` (dependents included).

    Pass `occurrences` for a recurring job: each is decided on its own, and
    the decision is the worst of them.
    """
    version = version or calendar_version()
    impacted_set = impacted(systems, version=version)
    windows_of = occurrences or [(start, end)]
    span_start = min(s for s, _ in windows_of)
    span_end = max(e for _, e in windows_of)
    windows = busy_windows(
        systems=impacted_set,
        start=span_start,
        end=span_end,
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


def next_clear(
    *,
    systems: Iterable[str],
    duration: timedelta,
    impact: str,
    after: datetime,
    before: datetime | None = None,
    limit: int = 5,
    exclude_job: int | None = None,
    align: timedelta | None = timedelta(minutes=15),
    version: tuple | None = None,
) -> list[Slot]:
    """The next clear windows of `duration`, earliest first, one per gap.

    Busy windows are fetched once for the whole range and the gaps between
    them are read off directly: no minute-by-minute scan.
    """
    before = before or after + timedelta(days=settings.CLEARWAY_HORIZON_DAYS)
    version = version or calendar_version()
    impacted_set = impacted(systems, version=version)
    windows = busy_windows(
        systems=impacted_set,
        start=after,
        end=before,
        exclude_job_id=exclude_job,
        version=version,
    )
    return engine.clear_slots(
        windows=windows,
        systems=impacted_set,
        impact=impact,
        thresholds=thresholds(),
        duration=duration,
        after=after,
        before=before,
        limit=limit,
        align=align,
    )

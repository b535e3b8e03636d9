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

from scheduling import engine
from scheduling.engine import BusyWindow, Finding, Slot, Thresholds, WindowQuery
from scheduling.selectors import impacted_systems


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
    *, systems: frozenset[str], start: datetime, end: datetime, exclude_job_id: int | None = None
) -> list[BusyWindow]:
    query = WindowQuery(start=start, end=end, systems=systems, exclude_job_id=exclude_job_id)
    windows: list[BusyWindow] = []
    for source in window_sources():
        windows.extend(source(query=query))
    return windows


def evaluate(
    *,
    systems: Iterable[str],
    start: datetime,
    end: datetime,
    impact: str,
    exclude_job: int | None = None,
    occurrences: Sequence[tuple[datetime, datetime]] | None = None,
) -> Evaluation:
    """Decision and findings for work of `impact` on `systems` (dependents included).

    Pass `occurrences` for a recurring job: each is decided on its own, and
    the decision is the worst of them.
    """
    impacted = impacted_systems(systems=systems)
    windows_of = occurrences or [(start, end)]
    span_start = min(s for s, _ in windows_of)
    span_end = max(e for _, e in windows_of)
    windows = busy_windows(
        systems=impacted, start=span_start, end=span_end, exclude_job_id=exclude_job
    )
    findings = engine.fold_occurrences(
        windows=windows,
        systems=impacted,
        occurrences=windows_of,
        impact=impact,
        thresholds=thresholds(),
    )
    return Evaluation(decision=engine.decide(findings), findings=findings, impacted=impacted)


def next_clear(
    *,
    systems: Iterable[str],
    duration: timedelta,
    impact: str,
    after: datetime,
    before: datetime | None = None,
    limit: int = 5,
    exclude_job: int | None = None,
) -> list[Slot]:
    """The next clear windows of `duration`, earliest first, one per gap.

    Busy windows are fetched once for the whole range and the gaps between
    them are read off directly: no minute-by-minute scan.
    """
    before = before or after + timedelta(days=settings.CLEARWAY_HORIZON_DAYS)
    impacted = impacted_systems(systems=systems)
    windows = busy_windows(systems=impacted, start=after, end=before, exclude_job_id=exclude_job)
    return engine.clear_slots(
        windows=windows,
        systems=impacted,
        impact=impact,
        thresholds=thresholds(),
        duration=duration,
        after=after,
        before=before,
        limit=limit,
    )

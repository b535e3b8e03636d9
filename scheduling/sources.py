"""Window sources owned by `scheduling`: the freeze, other jobs, allowed windows.

Each is listed in settings.CLEARWAY_WINDOW_SOURCES and answers a WindowQuery
with BusyWindows; the engine folds them.
"""

from collections.abc import Iterable
from datetime import datetime

from scheduling import freezes
from scheduling.choices import BOOKED_STATUSES, FindingKind, JobStatus, Severity
from scheduling.engine import BusyWindow, WindowQuery
from scheduling.models import AllowedWindowOccurrence, JobOccurrence, System


def freeze_windows(*, query: WindowQuery) -> Iterable[BusyWindow]:
    return [
        BusyWindow(
            kind=FindingKind.FREEZE,
            start=interval.start,
            end=interval.end,
            systems=interval.systems,
            title="Change freeze",
            message=freezes.freeze_message(interval),
            source=f"freeze:{interval.freeze_id}",
            url="/freeze/",
            severity=Severity.REFUSE,
        )
        for interval in freezes.freeze_intervals(
            start=query.start, end=query.end, systems=query.systems
        )
    ]


def maintenance_windows(*, query: WindowQuery) -> Iterable[BusyWindow]:
    occurrences = (
        JobOccurrence.objects.filter(
            start__lt=query.end,
            end__gt=query.start,
            job__status__in=BOOKED_STATUSES,
            job__impacted_systems__slug__in=query.systems,
        )
        .exclude(job_id=query.exclude_job_id)
        .select_related("job", "job__team")
        .distinct()
    )
    occurrences = list(occurrences)
    impacted = _impacted_slugs({o.job_id for o in occurrences})
    return [
        BusyWindow(
            kind=FindingKind.MAINTENANCE,
            start=o.start,
            end=o.end,
            systems=impacted[o.job_id],
            title=f"{o.job.title} ({o.job.get_status_display().lower()})",
            message=(
                f"{o.job.team.name} has {o.job.get_impact_display().lower()} maintenance "
                f"'{o.job.title}' ({o.job.get_status_display().lower()}) on "
                f"{', '.join(sorted(impacted[o.job_id] & query.systems))} at the same time."
            ),
            source=f"job:{o.job_id}",
            url=f"/jobs/{o.job_id}/",
            # Only an approved booking gives its team a say (a review, a
            # refusal). A pending one is shown as a flag and asks no one: the
            # first of two overlapping jobs to be approved wins, and the other
            # is re-evaluated then.
            team=o.job.team.slug if o.job.status == JobStatus.APPROVED else "",
            severity=None if o.job.status == JobStatus.APPROVED else Severity.FLAG,
            impact=o.job.impact,
        )
        for o in occurrences
    ]


def _impacted_slugs(job_ids: set[int]) -> dict[int, frozenset[str]]:
    from scheduling.models import MaintenanceJob

    through = MaintenanceJob.impacted_systems.through
    rows = through.objects.filter(maintenancejob_id__in=job_ids).values_list(
        "maintenancejob_id", "system__slug"
    )
    found: dict[int, set[str]] = {job_id: set() for job_id in job_ids}
    for job_id, slug in rows:
        found[job_id].add(slug)
    return {job_id: frozenset(slugs) for job_id, slugs in found.items()}


def outside_allowed_windows(*, query: WindowQuery) -> Iterable[BusyWindow]:
    """The gaps between allowed windows of systems that have one.

    Every impacted system's window counts, dependents included: work on
    grading-db takes grading-api down with it, so it must fit grading-api's
    hours too.
    """
    restricted = list(
        System.objects.filter(slug__in=query.systems)
        .exclude(window_rrule="")
        .select_related("team")
    )
    if not restricted:
        return []
    allowed: dict[int, list[tuple[datetime, datetime]]] = {s.pk: [] for s in restricted}
    for occurrence in AllowedWindowOccurrence.objects.filter(
        system__in=restricted, start__lt=query.end, end__gt=query.start
    ).order_by("start"):
        allowed[occurrence.system_id].append((occurrence.start, occurrence.end))
    windows = []
    for system in restricted:
        for gap_start, gap_end in _gaps(allowed[system.pk], query.start, query.end):
            windows.append(
                BusyWindow(
                    kind=FindingKind.OUTSIDE_WINDOW,
                    start=gap_start,
                    end=gap_end,
                    systems=frozenset({system.slug}),
                    title=f"Outside {system.slug}'s maintenance window",
                    message=(
                        f"{system.slug} allows maintenance only in its window "
                        f"({system.window_rrule} at {system.window_start_time:%H:%M} "
                        f"{system.window_timezone} for {system.window_duration})."
                    ),
                    source=f"system:{system.slug}",
                    url=f"/systems/{system.slug}/",
                    team=system.team.slug,
                    severity=Severity.REFUSE,
                )
            )
    return windows


def _gaps(
    allowed: list[tuple[datetime, datetime]], start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    gaps = []
    cursor = start
    for lo, hi in allowed:
        if lo > cursor:
            gaps.append((cursor, min(lo, end)))
        cursor = max(cursor, hi)
        if cursor >= end:
            break
    if cursor < end:
        gaps.append((cursor, end))
    return gaps

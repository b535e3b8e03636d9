"""Evaluate many booked jobs at once: the read side of a bulk re-evaluation.

`jobs_touching_windows` selects, in a few queries whatever their number, the
unfinished jobs a set of changed windows touches (the jobs that
`reevaluation.jobs_touching` would select window by window). `assess` reads
those jobs, their windows and the timeline rows they need (per system, over
merged spans) and folds each job with the pure engine in memory, as
`jobs.maintenance_job_evaluate` would, without writing anything.
"""

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Q

from scheduling import conflicts
from scheduling.choices import FINISHED_STATUSES, JobStatus
from scheduling.models import JobOccurrence, MaintenanceJob, System, TimelineReach
from scheduling.services.jobs import without_freezes
from scheduling.timeline.batch import read_spans
from scheduling.timeline.build import merge

Span = tuple[datetime, datetime]
# A changed window and the systems it is on (None: every system).
ChangedWindow = tuple[datetime, datetime, list[str] | None]


@dataclass
class Assessed:
    """One job as read, and what evaluating it now finds."""

    job: MaintenanceJob
    evaluation: conflicts.Evaluation
    where: dict[int, str]  # the systems its evaluation looks at (booked and dependents)
    span: Span  # from its first remaining window's start to its last one's end
    impacted: set[int] = field(default_factory=set)  # where its own bookings lie
    occurrences: list[Span] = field(default_factory=list)  # every window, past ones too

    @property
    def changed(self) -> bool:
        """Whether the evaluation differs from the one stored on the job."""
        return self.job.decision != self.evaluation.decision or self.job.findings != [
            f.as_dict() for f in self.evaluation.findings
        ]


class _Catalogue:
    """System ids and slugs, and the dependency closure (TimelineReach): two reads."""

    def __init__(self) -> None:
        self.slugs = dict(System.objects.values_list("pk", "slug"))
        self.ids = {slug: pk for pk, slug in self.slugs.items()}
        self.reach: dict[int, set[int]] = defaultdict(set)
        for system_id, reached_id in TimelineReach.objects.values_list("system_id", "reached_id"):
            self.reach[system_id].add(reached_id)

    def closure(self, slugs: Iterable[str]) -> set[int]:
        ids = {self.ids[s] for s in slugs if s in self.ids}
        return ids.union(*(self.reach[i] for i in ids))


def _windows_of(job_ids: Iterable[int]) -> dict[int, list[Span]]:
    found: dict[int, list[Span]] = defaultdict(list)
    for job_id, lo, hi in (
        JobOccurrence.objects.filter(job_id__in=list(job_ids))
        .order_by("start")
        .values_list("job_id", "start", "end")
    ):
        found[job_id].append((lo, hi))
    return found


# A conflicted or pending job's stored findings may be about a window that has
# passed since (a recurring job's occurrence): a change there may be what still
# holds it, so the job is taken as long as it has a window left (which is all
# its evaluation reads).
SETTLING = (JobStatus.CONFLICTED, JobStatus.PENDING)


def jobs_touching_windows(
    *,
    windows: Iterable[tuple[datetime, datetime, Iterable[str] | None]],
    now: datetime,
) -> list[int]:
    """Ids of unfinished jobs with a window that overlaps one of `windows` on the systems
    it names (None: every system) or their dependents, and has not ended (or, for a
    SETTLING job with a window left, has)."""
    catalogue = _Catalogue()
    # Per system a job may impact (None: any), the merged changed spans that reach it.
    reaching: dict[int | None, list[Span]] = defaultdict(list)
    for lo, hi, systems in windows:
        for origin in [None] if systems is None else catalogue.closure(systems):
            reaching[origin].append((lo, hi))
    if not reaching:
        return []
    merged = {origin: merge(spans) for origin, spans in reaching.items()}
    starts = {origin: [lo for lo, _ in spans] for origin, spans in merged.items()}
    lowest = min(lo for spans in merged.values() for lo, _ in spans)
    touching = (
        JobOccurrence.objects.filter(
            start__lt=max(hi for spans in merged.values() for _, hi in spans)
        )
        .filter(Q(end__gt=max(now, lowest)) | Q(end__gt=lowest, job__status__in=SETTLING))
        .exclude(job__status__in=FINISHED_STATUSES)
    )
    occurrences: dict[int, list[Span]] = defaultdict(list)
    for job_id, lo, hi in touching.values_list("job_id", "start", "end"):
        occurrences[job_id].append((lo, hi))
    past = {job_id for job_id, spans in occurrences.items() if any(hi <= now for _, hi in spans)}
    if past:
        ongoing = JobOccurrence.objects.filter(job_id__in=past, end__gt=now)
        left = set(ongoing.values_list("job_id", flat=True))
        for job_id in past - left:
            del occurrences[job_id]
    impacted: dict[int, set[int]] = defaultdict(set)
    for job_id, system_id in MaintenanceJob.impacted_systems.through.objects.filter(
        maintenancejob_id__in=touching.values("job_id")
    ).values_list("maintenancejob_id", "system_id"):
        impacted[job_id].add(system_id)

    def touched(job_id: int) -> bool:
        for lo, hi in occurrences[job_id]:
            for origin in [None, *impacted[job_id]]:
                # The last merged span starting before this window ends reaches furthest.
                at = bisect_left(starts.get(origin, ()), hi)
                if at and merged[origin][at - 1][1] > lo:
                    return True
        return False

    return sorted(job_id for job_id in occurrences if touched(job_id))


def bookings_of(*, job_ids: Iterable[int]) -> list[ChangedWindow]:
    """Every window of these jobs on the systems their bookings lie on (impacted ones)."""
    job_ids = list(job_ids)
    slugs: dict[int, list[str]] = defaultdict(list)
    for job_id, slug in MaintenanceJob.impacted_systems.through.objects.filter(
        maintenancejob_id__in=job_ids
    ).values_list("maintenancejob_id", "system__slug"):
        slugs[job_id].append(slug)
    return [
        (lo, hi, sorted(slugs[job_id]))
        for job_id, windows in _windows_of(job_ids).items()
        for lo, hi in windows
    ]


def _upcoming(windows: list[Span], now: datetime) -> list[Span]:
    # As jobs.upcoming_windows: the windows that have not ended, or all of them.
    return [(lo, hi) for lo, hi in windows if hi > now] or windows


def assess(*, job_ids: list[int], now: datetime) -> dict[int, Assessed]:
    """Each job evaluated now against the stored timeline, read once for all of them."""
    if not job_ids:
        return {}
    catalogue = _Catalogue()
    jobs = {job.pk: job for job in MaintenanceJob.objects.filter(pk__in=job_ids)}
    booked: dict[int, set[str]] = defaultdict(set)
    impacted: dict[int, set[int]] = defaultdict(set)
    for job_id, system_id in MaintenanceJob.systems.through.objects.filter(
        maintenancejob_id__in=job_ids
    ).values_list("maintenancejob_id", "system_id"):
        booked[job_id].add(catalogue.slugs[system_id])
    for job_id, system_id in MaintenanceJob.impacted_systems.through.objects.filter(
        maintenancejob_id__in=job_ids
    ).values_list("maintenancejob_id", "system_id"):
        impacted[job_id].add(system_id)
    windows = _windows_of(jobs)
    plans = {}
    spans: dict[int, list[Span]] = defaultdict(list)
    for job_id in jobs:
        upcoming = _upcoming(windows[job_id], now)
        if not upcoming:
            continue
        where = {pk: catalogue.slugs[pk] for pk in catalogue.closure(booked[job_id])}
        span = (min(lo for lo, _ in upcoming), max(hi for _, hi in upcoming))
        plans[job_id] = (upcoming, where, span)
        for origin in where:
            spans[origin].append(span)
    rows = read_spans(spans=spans)
    found = {}
    for job_id, (upcoming, where, span) in plans.items():
        job = jobs[job_id]
        # As timeline.reach: the booked slugs are asked about even if unknown.
        slugs = frozenset(where.values()) | frozenset(booked[job_id])
        busy = rows.windows(
            where=slugs, ids=where, start=span[0], end=span[1], exclude_job_id=job_id
        )
        evaluation = without_freezes(
            conflicts.evaluate(
                systems=booked[job_id],
                start=span[0],
                end=span[1],
                impact=job.impact,
                exclude_job=job_id,
                occurrences=upcoming,
                known=(slugs, busy),
            )
        )
        found[job_id] = Assessed(
            job=job,
            evaluation=evaluation,
            where=where,
            span=span,
            impacted=impacted[job_id],
            occurrences=windows[job_id],
        )
    return found

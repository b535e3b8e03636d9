"""Re-evaluate booked jobs when a calendar changes under them.

Services that change a calendar call `calendar.calendar_changed`, which
queues `scheduling.tasks.reevaluate_jobs` (a bulk change: `reevaluate_windows`);
both evaluate the touched jobs together and take only those whose outcome
changes through the per-job path, `maintenance_job_reevaluate`.
"""

import logging
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from scheduling import conflicts
from scheduling.calendar_feeds.stored import feed_texts_gathered, feed_texts_store
from scheduling.choices import (
    FINISHED_STATUSES,
    Decision,
    FindingKind,
    JobAction,
    JobStatus,
    ReviewStatus,
)
from scheduling.db import retry_on_conflict, update_rows
from scheduling.engine import Finding, decide, worse
from scheduling.models import (
    JobEvent,
    JobOccurrence,
    MaintenanceJob,
    ReviewRequest,
    System,
    Team,
)
from scheduling.selectors import impacted_systems
from scheduling.services import (
    evaluation_batch,
    jobs,
    messages,
    restoration,
    reviews,
    transitions,
)

logger = logging.getLogger(__name__)


def jobs_touching(
    *, start: datetime, end: datetime, systems: Iterable[str] | None, now: datetime
) -> list[int]:
    """Ids of unfinished jobs with a window in [start, end) on `systems` that has not ended
    (or, for a conflicted or pending job with a window left, has:
    `evaluation_batch.SETTLING`)."""
    touching = MaintenanceJob.objects.exclude(status__in=FINISHED_STATUSES).filter(
        Q(occurrences__start__lt=end, occurrences__end__gt=max(start, now))
        | Q(
            occurrences__start__lt=end,
            occurrences__end__gt=start,
            status__in=evaluation_batch.SETTLING,
            pk__in=JobOccurrence.objects.filter(end__gt=now).values("job_id"),
        )
    )
    if systems is not None:
        touching = touching.filter(impacted_systems__slug__in=impacted_systems(systems=systems))
    return list(touching.order_by("pk").values_list("pk", flat=True).distinct())


def reevaluate_jobs(
    *,
    start: datetime,
    end: datetime,
    systems: Iterable[str] | None,
    reason: str,
    now: datetime | None = None,
) -> list[int]:
    """Re-evaluate every job the change touches; return their ids."""
    return reevaluate_windows(windows=[(start, end, systems)], reason=reason, now=now)


# A job whose status changes moves its own booking, so the jobs it reaches are
# evaluated again (earlier ones too) until nothing more moves. A chain is short:
# a job refused by a booking comes back once that booking leaves; this bounds
# one that would not end.
ROUNDS = 10


def reevaluate_windows(
    *,
    windows: Iterable[tuple[datetime, datetime, Iterable[str] | None]],
    reason: str,
    now: datetime | None = None,
) -> list[int]:
    """Re-evaluate the jobs touching any of `windows`; return their ids.

    Each round evaluates the jobs it touches once each, in id order (`_round`).
    A job whose status changed in it moved its own booking: the next round
    takes the jobs that booking reaches, those evaluated before it included,
    until a round moves nobody (at most ROUNDS).
    """
    now = now or timezone.now()
    changed: list[evaluation_batch.ChangedWindow] = [
        (lo, hi, None if systems is None else list(systems)) for lo, hi, systems in windows
    ]
    touched: set[int] = set()
    for _ in range(ROUNDS):
        job_ids, moved = _round(changed, reason=reason, now=now)
        touched.update(job_ids)
        if not moved:
            return sorted(touched)
        changed = evaluation_batch.bookings_of(job_ids=moved)
    logger.warning("re-evaluation (%s) still moved jobs %s after %d rounds", reason, moved, ROUNDS)
    return sorted(touched)


def _round(
    windows: list[evaluation_batch.ChangedWindow], *, reason: str, now: datetime
) -> tuple[list[int], list[int]]:
    """Re-evaluate, once each, the jobs touching any of `windows`; return their ids and
    the ids of those whose status changed.

    The jobs are evaluated together from one read of the timeline
    (`evaluation_batch`). Only a job whose re-evaluation does more than store
    new findings takes the per-job path (`maintenance_job_reevaluate`: lock,
    evaluate, transitions, notifications); findings that changed without
    consequence are stored in one bulk update, and an unchanged evaluation
    costs no write (`evaluated_at`, and with it the feeds' ETags, stays).
    Jobs go in id order, as one by one: a job that changes status changes its
    own bookings under the later jobs overlapping them, which then take the
    per-job path too and see it.
    """
    if not settings.CLEARWAY_TIMELINE:
        return _round_one_by_one(windows, reason=reason, now=now)
    job_ids = evaluation_batch.jobs_touching_windows(windows=windows, now=now)
    assessed = evaluation_batch.assess(job_ids=job_ids, now=now)
    # One render and store of the changed jobs' feed texts, not one per job.
    with feed_texts_gathered():
        quiet, unchanged, moved = _one_by_one_where_needed(
            [assessed[pk] for pk in job_ids if pk in assessed], reason=reason, now=now
        )
        stale = _store_evaluations(items=quiet, reason=reason, now=now)
        for job_id in stale:
            status = maintenance_job_reevaluate(job_id=job_id, reason=reason, now=now)
            if status != assessed[job_id].job.status:
                moved.append(job_id)
    logger.info(
        "re-evaluated %d jobs (%s): %d one by one, %d stored in bulk, %d unchanged",
        len(job_ids),
        reason,
        len(job_ids) - len(quiet) - unchanged + len(stale),
        len(quiet) - len(stale),
        unchanged,
    )
    return job_ids, sorted(moved)


def _round_one_by_one(
    windows: list[evaluation_batch.ChangedWindow], *, reason: str, now: datetime
) -> tuple[list[int], list[int]]:
    """As `_round` from the raw sources (the oracle), which have no batch read."""
    job_ids = sorted(
        {
            pk
            for lo, hi, systems in windows
            for pk in jobs_touching(start=lo, end=hi, systems=systems, now=now)
        }
    )
    before = dict(MaintenanceJob.objects.filter(pk__in=job_ids).values_list("pk", "status"))
    moved = [
        job_id
        for job_id in job_ids
        # .get: a job deleted since it was found is gone (None), not moved.
        if maintenance_job_reevaluate(job_id=job_id, reason=reason, now=now) != before.get(job_id)
    ]
    return job_ids, moved


def _one_by_one_where_needed(
    items: list[evaluation_batch.Assessed], *, reason: str, now: datetime
) -> tuple[list[evaluation_batch.Assessed], int, list[int]]:
    """Take the jobs whose outcome changes through the per-job path, in id order; return
    the jobs whose evaluation changed without consequence, how many did not change, and
    the ids of those whose status changed."""
    moved = _Moved()
    asked = _Asked(items)
    quiet = []
    unchanged = 0
    for item in items:
        job_id = item.job.pk
        if moved.reaches(item):
            # An earlier job's move changed the timeline under it: evaluate it again.
            status = maintenance_job_reevaluate(job_id=job_id, reason=reason, now=now)
        elif _acts(item, asked=asked):
            status = maintenance_job_reevaluate(
                job_id=job_id, reason=reason, now=now, assessed=item
            )
        elif item.changed:
            quiet.append(item)
            continue
        else:
            unchanged += 1
            continue
        if status != item.job.status:
            moved.add(item)
    return quiet, unchanged, sorted(moved.jobs)


class _Moved:
    """The bookings of jobs whose status this run changed: their timeline rows changed too."""

    def __init__(self) -> None:
        self.windows: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
        self.jobs: set[int] = set()

    def add(self, item: evaluation_batch.Assessed) -> None:
        self.jobs.add(item.job.pk)
        for system_id in item.impacted:
            self.windows[system_id].extend(item.occurrences)

    def reaches(self, item: evaluation_batch.Assessed) -> bool:
        """Whether such a booking lies where and when `item`'s evaluation looked."""
        lo, hi = item.span
        return any(
            start < hi and end > lo
            for system_id in item.where
            for start, end in self.windows.get(system_id, ())
        )


class _Asked:
    """What answering a pending job's fresh flags reads, once for all the jobs that have
    some: the teams each one's current round asks, the systems' owners, the teams."""

    def __init__(self, items: list[evaluation_batch.Assessed]) -> None:
        pending = {
            item.job.pk: item.job.review_round
            for item in items
            if item.job.status == JobStatus.PENDING and _fresh(item)
        }
        self.asked: dict[int, set[str]] = defaultdict(set)
        self.owners: list[tuple[str, str]] = []
        self.teams: dict[int, str] = {}
        self.slugs: set[str] = set()
        if not pending:
            return
        for job_id, round_, team in (
            ReviewRequest.objects.filter(job_id__in=list(pending))
            .exclude(status=ReviewStatus.SUPERSEDED)
            .values_list("job_id", "round", "team__slug")
        ):
            if round_ == pending[job_id]:  # as transitions.current_reviews
                self.asked[job_id].add(team)
        self.owners = list(System.objects.values_list("slug", "team__slug"))
        self.teams = dict(Team.objects.values_list("pk", "slug"))
        self.slugs = set(self.teams.values())

    def nobody_new(self, item: evaluation_batch.Assessed) -> bool:
        """Whether every team `reviews.required_reviews` names is already asked this round."""
        job, evaluation = item.job, item.evaluation
        if job.template_id is not None:
            # Whether a standard change is still pre-approved depends on who owns
            # its booked systems now, which only the per-job path reads.
            return False
        needed = reviews.reviews_needed(
            requester=self.teams[job.team_id],
            template=False,
            evaluation=evaluation,
            override=reviews.overrides(job, evaluation),
            owners=self.owners,
            teams=self.slugs,
        )
        return set(needed) <= self.asked[job.pk]


def _fresh(item: evaluation_batch.Assessed) -> list[Finding]:
    return _new_or_worse(item.evaluation.findings, before=item.job.findings)


def _noted(item: evaluation_batch.Assessed) -> bool:
    """Whether `maintenance_job_reevaluate` records a `reevaluated` event for it."""
    new_decision = item.evaluation.decision != (item.job.decision or Decision.CLEAR)
    return new_decision or bool(_fresh(item))


def _acts(item: evaluation_batch.Assessed, *, asked: _Asked) -> bool:
    """Whether `maintenance_job_reevaluate` does more than store the evaluation and note it:
    answer a fresh finding of a pending or approved job (`_answer_fresh_findings`: conflict
    it, send it back to review, ask a team not yet asked); settle a pending or conflicted
    one on a changed decision or on changed teams flagging it (withdraw reviews, ask new
    ones, return it to approval)."""
    job, evaluation = item.job, item.evaluation
    fresh = _fresh(item)
    answers = (
        job.status in (JobStatus.PENDING, JobStatus.APPROVED)
        and bool(fresh)
        and (
            decide(fresh) == Decision.REFUSE
            or (
                # Only a flag from something other than a booking asks anyone.
                any(f.kind != FindingKind.MAINTENANCE for f in fresh)
                and (job.status == JobStatus.APPROVED or not asked.nobody_new(item))
            )
        )
    )
    settles = (
        job.status in (JobStatus.PENDING, JobStatus.CONFLICTED)
        # settle leaves a refused job as it is, unless an emergency's override covers it
        and (evaluation.decision != Decision.REFUSE or job.emergency)
        and (
            evaluation.decision != (job.decision or Decision.CLEAR)
            or restoration.settle_reads([f.as_dict() for f in evaluation.findings])
            != restoration.settle_reads(job.findings)
        )
    )
    return answers or settles


def _decision_note(reason: str, old: str, new: str) -> str:
    return f"{reason}: decision {old} -> {new}"


# What a batch read of a job must still find under the lock for its evaluation to stand.
_SNAPSHOT = ("status", "version", "decision", "findings", "evaluated_at", "review_round")


def _snapshot(job: MaintenanceJob) -> tuple:
    return tuple(getattr(job, name) for name in _SNAPSHOT)


@retry_on_conflict
def _store_evaluations(
    *, items: list[evaluation_batch.Assessed], reason: str, now: datetime
) -> list[int]:
    """Store evaluations whose only consequence is their `reevaluated` event, if any, in
    bulk; return the ids of jobs that changed since they were read (they go one by one)."""
    if not items:
        return []
    stale, jobs, events = [], [], []
    with transaction.atomic():
        current = {
            row[0]: row[1:]
            for row in MaintenanceJob.objects.select_for_update()
            .filter(pk__in=[item.job.pk for item in items])
            .order_by("pk")
            .values_list("pk", *_SNAPSHOT)
        }
        for item in items:
            job = item.job
            if current.get(job.pk) != _snapshot(job):
                stale.append(job.pk)
                continue
            noted = _noted(item)
            old_decision = job.decision or Decision.CLEAR
            job.decision = item.evaluation.decision
            job.findings = [finding.as_dict() for finding in item.evaluation.findings]
            job.evaluated_at = now
            jobs.append(job)
            if noted:
                events.append(
                    transitions.event(
                        job,
                        action=JobAction.REEVALUATED,
                        by=None,
                        now=now,
                        from_status=job.status,
                        to_status=job.status,
                        reason=_decision_note(reason, old_decision, job.decision),
                    )
                )
        update_rows(MaintenanceJob, jobs, ["decision", "findings", "evaluated_at"])
        JobEvent.objects.bulk_create(events, batch_size=500)
        # Their findings are in the feed's text, as the per-job path stores it.
        if jobs:
            feed_texts_store(kind="job", ids=[job.pk for job in jobs], now=now)
    return sorted(stale)


def _identity(finding: dict[str, Any]) -> tuple:
    return (finding["kind"], tuple(finding["sources"]), finding.get("occurrence"))


def _new_or_worse(findings: list[Finding], *, before: list[dict[str, Any]]) -> list[Finding]:
    """Findings not in `before`, or in it with a lower severity.

    A known collision that got worse counts as fresh: a deadline whose cohort
    grew past the refuse threshold, a flag blackout made to refuse.
    """
    known: dict[tuple, str] = {}
    for finding in before:
        key = _identity(finding)
        if key not in known or worse(finding["severity"], known[key]):
            known[key] = finding["severity"]
    return [
        f
        for f in findings
        if (key := _identity(f.as_dict())) not in known or worse(f.severity, known[key])
    ]


def _back_to_review(
    job: MaintenanceJob, *, needed: dict[str, str], reason: str, flag: Finding, now: datetime
) -> None:
    transitions.transition(
        job,
        to=JobStatus.PENDING,
        action=JobAction.BACK_TO_REVIEW,
        by=None,
        now=now,
        reason=f"{reason}: {flag.message}",
    )
    reviews.open_round(job, teams=needed, now=now)
    transitions.notify_job_team(
        job,
        event="back_to_review",
        message=messages.back_to_review(
            job, reason=reason, slots=transitions.suggestions(job, now)
        ),
        now=now,
    )
    if not needed:
        transitions.approve(job, by=None, now=now, reason="no other team needs to review it")


def _answer_fresh_findings(
    job: MaintenanceJob,
    *,
    evaluation: conflicts.Evaluation,
    fresh: list[Finding],
    reason: str,
    now: datetime,
) -> None:
    """A refusal conflicts the job; a flag (not another booking) asks the teams now concerned."""
    if decide(fresh) == Decision.REFUSE:
        transitions.conflict(job, by=None, now=now, reason=f"{reason}: {fresh[0].message}")
        return
    flags = [f for f in fresh if f.kind != FindingKind.MAINTENANCE]
    if not flags:
        return
    needed = reviews.required_reviews(
        job=job, evaluation=evaluation, override=reviews.overrides(job, evaluation)
    )
    if job.status == JobStatus.APPROVED:
        _back_to_review(job, needed=needed, reason=reason, flag=flags[0], now=now)
    else:
        reviews.request_missing_reviews(job, needed=needed, now=now)


@retry_on_conflict
def maintenance_job_reevaluate(
    *,
    job_id: int,
    reason: str,
    now: datetime | None = None,
    assessed: evaluation_batch.Assessed | None = None,
) -> str | None:
    """Re-check a booked job after a calendar changed; take it out of approval if needed.

    A new refusing finding conflicts the job; a new flag sends an approved job
    back to review by the teams now concerned (a flag from another team's
    booking does not: that team's job was reviewed against this one). When
    the cause goes, `restoration.settle` brings the job back. Returns the
    job's status afterwards (None: it is gone). `assessed`: the job as the
    batch read it and its evaluation then, used if the job has not changed since.
    """
    now = now or timezone.now()
    with transaction.atomic():
        job = MaintenanceJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status in FINISHED_STATUSES:
            return None if job is None else job.status
        old_decision = job.decision or Decision.CLEAR
        before = job.findings
        if assessed is not None and _snapshot(job) == _snapshot(assessed.job):
            evaluation = jobs.maintenance_job_store_evaluation(
                job=job, evaluation=assessed.evaluation, now=now
            )
        else:
            evaluation = jobs.maintenance_job_evaluate(job=job, now=now)
        fresh = _new_or_worse(evaluation.findings, before=before)
        if evaluation.decision != old_decision or fresh:
            transitions.record(
                job,
                action=JobAction.REEVALUATED,
                by=None,
                now=now,
                from_status=job.status,
                to_status=job.status,
                reason=_decision_note(reason, old_decision, evaluation.decision),
            )
        if job.status in (JobStatus.PENDING, JobStatus.APPROVED) and fresh:
            _answer_fresh_findings(job, evaluation=evaluation, fresh=fresh, reason=reason, now=now)
        # Both ways: what a change took away comes back when the cause goes.
        restoration.settle(job, evaluation=evaluation, reason=reason, now=now)
        transitions.store_feed_text(job, now=now)
    return job.status

"""Re-evaluate booked jobs when a calendar changes under them.

Services that change a calendar call `calendar.calendar_changed`, which
queues `scheduling.tasks.reevaluate_jobs`; that task calls `reevaluate_jobs`.
"""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from scheduling import conflicts
from scheduling.choices import FINISHED_STATUSES, Decision, FindingKind, JobAction, JobStatus
from scheduling.db import retry_on_conflict
from scheduling.engine import Finding, decide, worse
from scheduling.models import MaintenanceJob
from scheduling.selectors import impacted_systems
from scheduling.services import jobs, messages, restoration, reviews, transitions


def jobs_touching(
    *, start: datetime, end: datetime, systems: Iterable[str] | None, now: datetime
) -> list[int]:
    """Ids of unfinished jobs with a window that has not ended, in [start, end), on `systems`."""
    touching = MaintenanceJob.objects.exclude(status__in=FINISHED_STATUSES).filter(
        occurrences__start__lt=end,
        occurrences__end__gt=max(start, now),
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
    now = now or timezone.now()
    job_ids = jobs_touching(start=start, end=end, systems=systems, now=now)
    for job_id in job_ids:
        maintenance_job_reevaluate(job_id=job_id, reason=reason, now=now)
    return job_ids


def reevaluate_windows(
    *,
    windows: Iterable[tuple[datetime, datetime, Iterable[str] | None]],
    reason: str,
    now: datetime | None = None,
) -> list[int]:
    """Re-evaluate, once each, the jobs touching any of `windows` (a bulk change)."""
    now = now or timezone.now()
    job_ids: set[int] = set()
    for start, end, systems in windows:
        job_ids.update(jobs_touching(start=start, end=end, systems=systems, now=now))
    for job_id in sorted(job_ids):
        maintenance_job_reevaluate(job_id=job_id, reason=reason, now=now)
    return sorted(job_ids)


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
def maintenance_job_reevaluate(*, job_id: int, reason: str, now: datetime | None = None) -> None:
    """Re-check a booked job after a calendar changed; take it out of approval if needed.

    A new refusing finding conflicts the job; a new flag sends an approved job
    back to review by the teams now concerned (a flag from another team's
    booking does not: that team's job was reviewed against this one). When
    the cause goes, `restoration.settle` brings the job back.
    """
    now = now or timezone.now()
    with transaction.atomic():
        job = MaintenanceJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status in FINISHED_STATUSES:
            return
        old_decision = job.decision or Decision.CLEAR
        before = job.findings
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
                reason=f"{reason}: decision {old_decision} -> {evaluation.decision}",
            )
        if job.status in (JobStatus.PENDING, JobStatus.APPROVED) and fresh:
            _answer_fresh_findings(job, evaluation=evaluation, fresh=fresh, reason=reason, now=now)
        # Both ways: what a change took away comes back when the cause goes.
        restoration.settle(job, evaluation=evaluation, reason=reason, now=now)
        transitions.store_feed_text(job, now=now)

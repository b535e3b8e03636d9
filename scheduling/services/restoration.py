"""The way back: a job a calendar change took out of approval returns when the cause goes.

Re-evaluation (reevaluation.py) calls `settle` after every evaluation of a
conflicted or pending job. Reviews already given keep counting: a job that
was approved, conflicted by a refusal and then cleared is approved again
without anyone reviewing it twice; only teams that a remaining flag newly
concerns are asked.
"""

from datetime import datetime

from django.db.models import F, Q

from scheduling import conflicts
from scheduling.choices import Decision, FindingKind, JobAction, JobStatus, ReviewStatus, Severity
from scheduling.engine import decide
from scheduling.models import JobEvent, MaintenanceJob, ReviewRequest, Team
from scheduling.services import messages, notifications, reviews, transitions

_CHAIN = 50


def _taken_out_of_approval(job: MaintenanceJob) -> str | None:
    """The action that moved the job out of `approved`, if Clearway itself did and has
    moved it ever since (to review and back, in and out of conflict).

    Only a job a calendar change took out of approval comes back by itself: a
    job conflicted at submit, or moved by a person since, waits for its team.
    A person's move counts even when it keeps the status (a conflicted job
    moved into another refused window stays conflicted), and so does any new
    window: the approval was given for the old one.
    """
    moves = (
        JobEvent.objects.filter(job=job)
        .filter(
            # A status change, or a person's step that kept the status, or a new window.
            (~Q(from_status="") & (~Q(from_status=F("to_status")) | Q(actor__isnull=False)))
            | Q(action=JobAction.RESCHEDULED)
        )
        .order_by("-at", "-pk")
        .values_list("actor_id", "action", "from_status")
    )
    # One read: a job moved back and forth by Clearway more often than this
    # is left to its team.
    for actor, action, from_status in moves[:_CHAIN]:
        if actor is not None or action == JobAction.RESCHEDULED:
            return None
        if from_status == JobStatus.APPROVED:
            return action if action in (JobAction.CONFLICTED, JobAction.BACK_TO_REVIEW) else None
        if from_status not in (JobStatus.PENDING, JobStatus.CONFLICTED):
            return None
    return None


def _rounds_clearway_opened(job: MaintenanceJob) -> int:
    """How many review rounds Clearway opened (a flag sending the approved job back to
    review) since its team last submitted or moved it."""
    opened = 0
    steps = (
        JobEvent.objects.filter(
            job=job,
            action__in=(
                JobAction.SUBMITTED,
                JobAction.RESUBMITTED,
                JobAction.RESCHEDULED,
                JobAction.BACK_TO_REVIEW,
            ),
        )
        .order_by("-at", "-pk")
        .values_list("action", "from_status")
    )
    for action, from_status in steps[:_CHAIN]:
        if action != JobAction.BACK_TO_REVIEW:
            break
        if from_status == JobStatus.APPROVED:  # a new round (from conflicted: the same one)
            opened += 1
    return opened


def _standing_reviews(job: MaintenanceJob) -> dict[str, ReviewRequest]:
    """Team slug -> its approval that got the job approved (or a newer one).

    A conflict keeps the round; going back to review opens a new one, and the
    approvals of the rounds before it keep counting, also once the job came
    back and left approval again.
    """
    first = job.review_round - _rounds_clearway_opened(job)
    approved = (
        ReviewRequest.objects.filter(job=job, round__gte=first, status=ReviewStatus.APPROVED)
        .select_related("team")
        .order_by("round")
    )
    return {review.team.slug: review for review in approved}


def _withdraw_reviews(
    job: MaintenanceJob, *, needed: dict[str, str], reason: str, now: datetime
) -> int:
    """Withdraw open requests whose reason has gone, and tell each team."""
    gone = list(
        transitions.current_reviews(job)
        .filter(status=ReviewStatus.PENDING)
        .exclude(team__slug__in=needed)
        .select_related("team")
    )
    for review in gone:
        review.status = ReviewStatus.SUPERSEDED
        review.save(update_fields=["status"])
        transitions.record(
            job,
            action=JobAction.REVIEW_WITHDRAWN,
            by=None,
            now=now,
            reason=f"{review.team.name}: {reason}",
        )
        transitions.notify_teams(
            job,
            key=f"job:{job.pk}:round:{job.review_round}:withdrawn:{review.team.slug}",
            event="review_withdrawn",
            teams=[review.team],
            message=messages.review_withdrawn(job, team=review.team.name, reason=reason),
            now=now,
        )
    return len(gone)


def _restore(job: MaintenanceJob, *, standing: dict[str, ReviewRequest], reason: str, now):
    transitions.supersede_pending_reviews(job)
    transitions.transition(
        job,
        to=JobStatus.APPROVED,
        action=JobAction.CONFLICT_CLEARED,
        by=None,
        now=now,
        reason=reason,
    )
    # Everyone the conflict told (the job's team and the reviewers of each time it
    # was conflicted since it left approval), and the reviews it stands on.
    told = notifications.teams_told(
        job=job,
        event="conflicted",
        since=("approved", "conflict_cleared"),
        among=Team.objects.filter(Q(pk=job.team_id) | Q(review_requests__job=job)).distinct(),
    )
    transitions.notify_job_team(
        job,
        event="conflict_cleared",
        message=messages.conflict_cleared(job, reason=reason),
        now=now,
        extra=[*told, *(review.team for review in standing.values())],
    )


def _review_again(job: MaintenanceJob, *, missing: dict[str, str], reason: str, now: datetime):
    """Still flagged by something new: pending again, asking only the teams it concerns."""
    transitions.transition(
        job,
        to=JobStatus.PENDING,
        action=JobAction.BACK_TO_REVIEW,
        by=None,
        now=now,
        reason=f"{reason}: still flagged, reviews needed from {', '.join(sorted(missing))}",
    )
    reviews.request_reviews(job, teams=missing, now=now)
    transitions.notify_job_team(
        job,
        event="back_to_review",
        message=messages.back_to_review(
            job, reason=reason, slots=transitions.suggestions(job, now)
        ),
        now=now,
    )


def _identity(finding: dict) -> tuple:
    """Which collision a finding is, whatever its text (as reevaluation's `_identity`)."""
    return (finding["kind"], tuple(finding["sources"]), finding.get("occurrence"))


def _refusals(findings: list[dict]) -> set[tuple]:
    return {_identity(f) for f in findings if f["severity"] == Severity.REFUSE}


def _overridden(job: MaintenanceJob, evaluation: conflicts.Evaluation) -> bool:
    """Whether the job is an emergency whose approved override covers every refusal left.

    The override covered what refused the job when it was last approved (the
    findings recorded then). A refusal since, or an approved booking that
    refuses it, still stops it; so does a freeze, at the gate.
    """
    if not job.emergency or reviews.refusing_bookings(evaluation):
        return False
    approved_with = (
        JobEvent.objects.filter(job=job, to_status=JobStatus.APPROVED)
        .exclude(from_status=JobStatus.APPROVED)
        .order_by("-at", "-pk")
        .values_list("findings", flat=True)
        .first()
    )
    left = _refusals([finding.as_dict() for finding in evaluation.findings])
    return approved_with is not None and left <= _refusals(approved_with)


def settle_reads(findings: list[dict]) -> frozenset[tuple]:
    """What `settle` reads of a job's (stored) findings, besides its decision: the teams
    that flag it, each marked whether through another booking, and what refuses it.
    With both unchanged, `settle` decides as it did after the last evaluation (the
    batch re-evaluation relies on it to leave such a job alone)."""
    return frozenset(
        (finding["kind"] == FindingKind.MAINTENANCE, team)
        for finding in findings
        if finding["severity"] == Severity.FLAG
        for team in finding["teams"]
    ) | frozenset(_refusals(findings))


def _concerned(
    job: MaintenanceJob, *, evaluation: conflicts.Evaluation, override: bool
) -> dict[str, str]:
    """The teams a calendar change asks to review the job: as on the way out
    (reevaluation._answer_fresh_findings), another team's booking asks nobody new,
    since that team's job was reviewed against this one."""
    without_bookings = [f for f in evaluation.findings if f.kind != FindingKind.MAINTENANCE]
    return reviews.required_reviews(
        job=job,
        evaluation=conflicts.Evaluation(
            decision=decide(without_bookings),
            findings=without_bookings,
            impacted=evaluation.impacted,
        ),
        override=override,
    )


def _ask_missing(job: MaintenanceJob, *, teams: dict[str, str], reason: str, now: datetime):
    """Ask the teams now concerned that the job's round has not asked (the team behind
    a flag changed, say): approval needs the owners of whatever flags it."""
    if added := reviews.request_missing_reviews(job, needed=teams, now=now):
        transitions.record(
            job,
            action=JobAction.REVIEWS_ADDED,
            by=None,
            now=now,
            reason=f"{reason}: {', '.join(sorted(added))}",
        )


def settle(
    job: MaintenanceJob, *, evaluation: conflicts.Evaluation, reason: str, now: datetime
) -> None:
    """After a re-evaluation: ask the teams newly concerned, withdraw reviews nobody
    needs, and return the job if it may."""
    if job.status not in (JobStatus.PENDING, JobStatus.CONFLICTED):
        return
    if evaluation.decision == Decision.REFUSE and not _overridden(job, evaluation):
        return
    override = reviews.overrides(job, evaluation)
    needed = reviews.required_reviews(job=job, evaluation=evaluation, override=override)
    asked = _concerned(job, evaluation=evaluation, override=override)
    origin = _taken_out_of_approval(job)
    standing = {} if origin is None else _standing_reviews(job)
    missing = {slug: why for slug, why in asked.items() if slug not in standing}
    withdrawn = 0
    if job.status == JobStatus.PENDING:
        # Asked first: a job is never approved for want of a team nobody asked.
        _ask_missing(job, teams=missing, reason=reason, now=now)
        withdrawn = _withdraw_reviews(job, needed=needed, reason=reason, now=now)
    if origin is None:
        # Every team still asked had approved; only the withdrawn ones were waited for.
        if withdrawn and not transitions.current_reviews(job).exclude(status=ReviewStatus.APPROVED):
            transitions.approve(job, by=None, now=now, reason="every team still concerned approved")
        return
    if not missing:
        _restore(job, standing=standing, reason=reason, now=now)
    elif job.status == JobStatus.CONFLICTED:
        _review_again(job, missing=missing, reason=reason, now=now)

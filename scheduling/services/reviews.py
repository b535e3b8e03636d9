"""Who must review a job, review rounds, and a team's approve or reject."""

from collections.abc import Container, Iterable
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from scheduling import conflicts
from scheduling.choices import Decision, FindingKind, JobAction, JobStatus, ReviewStatus, Severity
from scheduling.db import retry_on_conflict
from scheduling.errors import Conflict, InvalidInput, NotAllowed
from scheduling.models import ApiToken, JobEvent, MaintenanceJob, ReviewRequest, System, Team
from scheduling.selectors import is_member
from scheduling.services import jobs, messages, transitions


def required_reviews(
    *, job: MaintenanceJob, evaluation: conflicts.Evaluation, override: bool
) -> dict[str, str]:
    """Team slug -> why its review is needed. The requesting team never reviews itself.

    A standard change is pre-approved only while its team owns every system it
    is booked on: once one changed hands, its new owner reviews it.
    """
    template = job.template_id is not None and not job.systems.exclude(team_id=job.team_id).exists()
    return reviews_needed(
        requester=job.team.slug,
        template=template,
        evaluation=evaluation,
        override=override,
        owners=System.objects.filter(slug__in=evaluation.impacted).values_list(
            "slug", "team__slug"
        ),
        teams=set(Team.objects.values_list("slug", flat=True)),
    )


def reviews_needed(
    *,
    requester: str,
    template: bool,
    evaluation: conflicts.Evaluation,
    override: bool,
    owners: Iterable[tuple[str, str]],
    teams: Container[str],
) -> dict[str, str]:
    """`required_reviews` over values already read (the batch re-evaluation reads them once
    for many jobs): `owners` (system slug, its team's slug) in slug order, `teams` every slug.

    A standard change (booked from a team's template) needs nobody while it is
    clear: that is what pre-approved means.
    """
    if template and evaluation.decision == Decision.CLEAR and not override:
        return {}
    needed: dict[str, list[str]] = {}
    for system, team in owners:
        if system in evaluation.impacted:
            needed.setdefault(team, []).append(f"owns {system}")
    for finding in evaluation.findings:
        # A refusing deadline or blackout refuses by itself; only a flag asks
        # its owners to review, so publishing one gives no veto (docs/reliability.md).
        if finding.severity != Severity.FLAG:
            continue
        for team in finding.teams:
            needed.setdefault(team, []).append(f"owns '{finding.title}'")
    needed.pop(requester, None)
    if override:
        # Added after the requesting team is dropped: an override by the
        # administrators' own team is still approved by another administrator.
        needed.setdefault(settings.CLEARWAY_ADMIN_TEAM, []).append("emergency override")
    return {
        slug: "; ".join(dict.fromkeys(reasons))[:300]
        for slug, reasons in sorted(needed.items())
        if slug in teams
    }


def overrides(job: MaintenanceJob, evaluation: conflicts.Evaluation) -> bool:
    """Whether the job runs only by emergency override of a refusal.

    The administrators review an emergency only then: an emergency that is
    not refused was not asked for their review at submit, and must not gain
    it when the last requested team approves.
    """
    return job.emergency and evaluation.decision == Decision.REFUSE


def refusing_bookings(evaluation: conflicts.Evaluation) -> list[str]:
    """Messages of refusing collisions with other approved jobs: no override passes them.

    Which job is approved is read from the jobs' rows through each finding's
    `sources` (`job:<id>`), never from its title: a title is free text.
    """
    refusing = [
        f
        for f in evaluation.findings
        if f.kind == FindingKind.MAINTENANCE and f.severity == Severity.REFUSE
    ]
    ids = {pk for f in refusing for source in f.sources if (pk := _job_id(source)) is not None}
    if not ids:
        return []
    approved = set(
        MaintenanceJob.objects.filter(pk__in=ids, status=JobStatus.APPROVED).values_list(
            "pk", flat=True
        )
    )
    return [f.message for f in refusing if any(_job_id(s) in approved for s in f.sources)]


def _job_id(source: str) -> int | None:
    kind, _, key = source.partition(":")
    return int(key) if kind == "job" and key.isdecimal() else None


def open_round(job: MaintenanceJob, *, teams: dict[str, str], now: datetime) -> list[ReviewRequest]:
    transitions.supersede_pending_reviews(job)
    job.review_round = F("review_round") + 1
    job.save(update_fields=["review_round"])
    job.refresh_from_db(fields=["review_round"])
    return request_reviews(job, teams=teams, now=now)


def request_reviews(
    job: MaintenanceJob, *, teams: dict[str, str], now: datetime
) -> list[ReviewRequest]:
    # A request withdrawn earlier in this round (its reason went, then came
    # back) is opened again: one row per team and round.
    requests = [
        ReviewRequest.objects.update_or_create(
            job=job,
            team=team,
            round=job.review_round,
            defaults={"reason": teams[team.slug], "status": ReviewStatus.PENDING},
        )[0]
        for team in Team.objects.filter(slug__in=teams)
    ]
    if requests:
        transitions.notify_teams(
            job,
            key=f"job:{job.pk}:round:{job.review_round}:requested:{job.version}",
            event="review_requested",
            teams=[r.team for r in requests],
            message=messages.review_requested(job),
            now=now,
        )
    return requests


def request_missing_reviews(job: MaintenanceJob, *, needed: dict[str, str], now: datetime):
    """Ask the teams `needed` names that this round has not asked yet; return them."""
    asked = set(transitions.current_reviews(job).values_list("team__slug", flat=True))
    missing = {slug: why for slug, why in needed.items() if slug not in asked}
    if missing:
        request_reviews(job, teams=missing, now=now)
    return missing


def _reviewer(job: MaintenanceJob, *, team: str, by: User | None, token: ApiToken | None) -> Team:
    reviewer = Team.objects.filter(slug=team).first()
    if reviewer is None:
        raise InvalidInput.for_field("team", f"There is no team {team!r}.")
    # Through a team token, the person who made it decides as well as the
    # token's account: a requester must not review by minting a token.
    people = {by.pk} if by is not None else set()
    if token is not None and token.created_by_id is not None:
        people.add(token.created_by_id)
    if _is_own_override_review(job, reviewer):
        # The administrators' team overriding a refusal for itself: any
        # administrator but the ones who asked for it may approve, in person.
        if token is not None:
            raise NotAllowed(
                "An emergency override is approved by an administrator in person, "
                "signed in: not with a team token."
            )
        if by is None or people & _requesters(job):
            raise NotAllowed("Someone other than the requester must approve an emergency override.")
    # A member of the requesting team cannot review it, not even for another
    # team they also belong to: that would be self-review under another name.
    elif reviewer.pk == job.team_id or job.team.members.filter(pk__in=people).exists():
        raise NotAllowed(f"{job.team.name} requested job #{job.pk}; its members cannot review it.")
    # Nor can whoever booked or submitted it, whatever team they are in now.
    elif people & _requesters(job):
        raise NotAllowed(
            f"You booked or submitted job #{job.pk} (in person or through a token you made): "
            "someone else reviews it."
        )
    if not is_member(by, reviewer):
        raise NotAllowed(f"Only members of {reviewer.name} can review for it.")
    return reviewer


def _is_own_override_review(job: MaintenanceJob, reviewer: Team) -> bool:
    """The requesting team is asked to review only as the administrators, for an override."""
    return (
        reviewer.pk == job.team_id
        and reviewer.slug == settings.CLEARWAY_ADMIN_TEAM
        and job.reviews.filter(team=reviewer, round=job.review_round).exists()
    )


def _requesters(job: MaintenanceJob) -> set[int]:
    """Who booked the job, submitted it, moved it or asked for its override, in person or
    through a team token (its maker counts): none of them may review it. A move of a
    pending job opens a new round without a `resubmitted` entry: its mover asked too."""
    asked = JobEvent.objects.filter(
        job=job,
        action__in=(
            JobAction.CREATED,
            JobAction.EMERGENCY_OVERRIDE,
            JobAction.SUBMITTED,
            JobAction.RESUBMITTED,
            JobAction.RESCHEDULED,
        ),
    )
    people = {job.created_by_id}
    for actor, maker in asked.values_list("actor_id", "token__created_by_id"):
        people |= {actor, maker}
    return {pk for pk in people if pk is not None}


def _pending_review(job: MaintenanceJob, *, reviewer: Team) -> ReviewRequest:
    if job.status != JobStatus.PENDING:
        raise Conflict(f"Job #{job.pk} is {job.status}, not pending review.", code="invalid_status")
    review = job.reviews.filter(team=reviewer, round=job.review_round).first()
    if review is None:
        raise Conflict(f"{reviewer.name} was not asked to review job #{job.pk}.")
    if review.status != ReviewStatus.PENDING:
        raise Conflict(f"{reviewer.name} has already {review.status} job #{job.pk}.")
    return review


def _reject(
    job: MaintenanceJob, *, reviewer: Team, by: User | None, comment: str, now: datetime
) -> None:
    transitions.supersede_pending_reviews(job)
    transitions.transition(
        job,
        to=JobStatus.REJECTED,
        action=JobAction.REJECTED,
        by=by,
        now=now,
        reason=f"{reviewer.name}: {comment}" if comment else reviewer.name,
    )
    transitions.notify_job_team(
        job,
        event="rejected",
        message=messages.rejected(job, reviewer=reviewer.name, comment=comment),
        now=now,
    )


def _complete_review(job: MaintenanceJob, *, by: User | None, now: datetime):
    evaluation = jobs.maintenance_job_evaluate(job=job, now=now)
    if blocked := refusing_bookings(evaluation):
        transitions.conflict(job, by=by, now=now, reason=blocked[0])
        return
    if evaluation.decision == Decision.REFUSE and not job.emergency:
        transitions.conflict(job, by=by, now=now, reason=evaluation.findings[0].message)
        return
    needed = required_reviews(job=job, evaluation=evaluation, override=overrides(job, evaluation))
    if missing := request_missing_reviews(job, needed=needed, now=now):
        transitions.record(
            job, action=JobAction.REVIEWS_ADDED, by=None, now=now, reason=", ".join(missing)
        )
        return
    transitions.approve(job, by=by, now=now, reason="every team concerned approved")


@retry_on_conflict
def maintenance_job_review(
    *,
    job_id: int,
    team: str,
    by: User | None,
    approve: bool,
    comment: str = "",
    now: datetime | None = None,
    token: ApiToken | None = None,
) -> MaintenanceJob:
    """A reviewing team approves or rejects; the last approval re-checks and approves.

    `token`: the team token the decision came through, if any (its maker counts
    as deciding too).
    """
    now = now or timezone.now()
    comment = comment.strip()
    if not approve and not comment:
        raise InvalidInput.for_field(
            "comment", "Say why you reject it: the team reads this to fix the job."
        )
    with transaction.atomic():
        job = transitions.lock_job(job_id)
        reviewer = _reviewer(job, team=team, by=by, token=token)
        review = _pending_review(job, reviewer=reviewer)
        review.status = ReviewStatus.APPROVED if approve else ReviewStatus.REJECTED
        review.comment, review.decided_by, review.decided_at = comment, by, now
        review.save(update_fields=["status", "comment", "decided_by", "decided_at"])
        transitions.record(
            job,
            action=JobAction.REVIEW_APPROVED if approve else JobAction.REVIEW_REJECTED,
            by=by,
            now=now,
            reason=f"{reviewer.name}: {comment}" if comment else reviewer.name,
        )
        if not approve:
            _reject(job, reviewer=reviewer, by=by, comment=comment, now=now)
        elif not transitions.current_reviews(job).exclude(status=ReviewStatus.APPROVED).exists():
            _complete_review(job, by=by, now=now)
        transitions.store_feed_text(job, now=now)
    return job

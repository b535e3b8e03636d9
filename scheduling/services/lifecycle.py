"""A job's way through review: submit, review, cancel, done, and re-evaluation.

Every transition locks the impacted systems' rows (in primary-key order) and
then the job's row, so two bookings racing for the same slot are decided one
after the other: the second sees the first and is refused. On SQLite the
IMMEDIATE transaction mode serialises writers the same way.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from scheduling import conflicts
from scheduling.choices import FINISHED_STATUSES, Decision, FindingKind, JobStatus, Severity
from scheduling.db import retry_on_conflict
from scheduling.engine import Finding, decide, worse
from scheduling.errors import Conflict, InvalidInput, NotAllowed, NotFound
from scheduling.models import JobEvent, MaintenanceJob, ReviewRequest, ReviewStatus, System, Team
from scheduling.selectors import impacted_systems, is_member
from scheduling.services import messages
from scheduling.services.calendar import calendar_change_record
from scheduling.services.jobs import (
    maintenance_job_change_window,
    maintenance_job_evaluate,
)
from scheduling.services.notifications import notify
from scheduling.services.reevaluation import calendar_changed

SUBMITTABLE = (JobStatus.DRAFT, JobStatus.REJECTED, JobStatus.CONFLICTED)
RESCHEDULE_REVIEWS = (JobStatus.PENDING, JobStatus.APPROVED, JobStatus.CONFLICTED)


# --- helpers -------------------------------------------------------------


def _require_requester(job: MaintenanceJob, by: AbstractBaseUser | None, verb: str) -> None:
    if not is_member(by, job.team):
        raise NotAllowed(f"Only members of {job.team.name} can {verb} job #{job.pk}.")


def _lock(job_id: int, *, extra_systems: Iterable[str] = ()) -> MaintenanceJob:
    """Lock the job's impacted systems (and `extra_systems`), then the job."""
    slugs = list(
        MaintenanceJob.impacted_systems.through.objects.filter(
            maintenancejob_id=job_id
        ).values_list("system__slug", flat=True)
    )
    if not slugs and not MaintenanceJob.objects.filter(pk=job_id).exists():
        raise NotFound(f"There is no job #{job_id}.")
    slugs = sorted(set(slugs) | set(extra_systems))
    list(System.objects.select_for_update().filter(slug__in=slugs).order_by("pk").values("pk"))
    job = MaintenanceJob.objects.select_for_update().filter(pk=job_id).first()
    if job is None:
        raise NotFound(f"There is no job #{job_id}.")
    return job


def _record(
    job: MaintenanceJob,
    *,
    action: str,
    by: AbstractBaseUser | None,
    now: datetime,
    from_status: str = "",
    to_status: str = "",
    reason: str = "",
) -> JobEvent:
    return JobEvent.objects.create(
        job=job,
        at=now,
        actor=by,
        action=action,
        from_status=from_status,
        to_status=to_status,
        decision=job.decision,
        reason=reason,
        findings=job.findings,
    )


def _transition(
    job: MaintenanceJob,
    *,
    to: str,
    action: str,
    by: AbstractBaseUser | None,
    now: datetime,
    reason: str = "",
) -> None:
    from_status = job.status
    job.status = to
    calendar_change_record(reason=f"job #{job.pk} {from_status} -> {to}")
    job.version = F("version") + 1
    job.save(update_fields=["status", "version", "updated_at"])
    job.refresh_from_db(fields=["version"])
    _record(
        job,
        action=action,
        by=by,
        now=now,
        from_status=from_status,
        to_status=to,
        reason=reason,
    )


def _last_end(job: MaintenanceJob) -> datetime:
    return job.occurrences.order_by("-end").values_list("end", flat=True).first() or job.end


def _suggestions(job: MaintenanceJob, now: datetime, limit: int = 3):
    # Suggest slots on quarter hours: nobody wants to start at 14:23:11.
    after = max(now, job.start)
    after = after.replace(second=0, microsecond=0) + timedelta(minutes=-after.minute % 15)
    return conflicts.next_clear(
        systems=job.systems.values_list("slug", flat=True),
        duration=job.end - job.start,
        impact=job.impact,
        after=after,
        limit=limit,
        exclude_job=job.pk,
    )


def required_reviews(
    *, job: MaintenanceJob, evaluation: conflicts.Evaluation, override: bool
) -> dict[str, str]:
    """Team slug -> why its review is needed. The requesting team never reviews itself."""
    needed: dict[str, list[str]] = {}
    for system in System.objects.filter(slug__in=evaluation.impacted).select_related("team"):
        needed.setdefault(system.team.slug, []).append(f"owns {system.slug}")
    for finding in evaluation.findings:
        for team in finding.teams:
            needed.setdefault(team, []).append(f"owns '{finding.title}'")
    if override:
        needed.setdefault(settings.CLEARWAY_ADMIN_TEAM, []).append("emergency override")
    needed.pop(job.team.slug, None)
    return {
        slug: "; ".join(dict.fromkeys(reasons))[:300]
        for slug, reasons in sorted(needed.items())
        if Team.objects.filter(slug=slug).exists()
    }


def _open_round(
    job: MaintenanceJob, *, teams: dict[str, str], by: AbstractBaseUser | None, now: datetime
) -> list[ReviewRequest]:
    job.reviews.filter(status=ReviewStatus.PENDING).update(status=ReviewStatus.SUPERSEDED)
    job.review_round = F("review_round") + 1
    job.save(update_fields=["review_round"])
    job.refresh_from_db(fields=["review_round"])
    return _request_reviews(job, teams=teams, now=now)


def _request_reviews(
    job: MaintenanceJob, *, teams: dict[str, str], now: datetime
) -> list[ReviewRequest]:
    requests = [
        ReviewRequest.objects.create(job=job, team=team, round=job.review_round, reason=reason)
        for team in Team.objects.filter(slug__in=teams)
        for reason in [teams[team.slug]]
    ]
    if requests:
        notify(
            key=f"job:{job.pk}:round:{job.review_round}:requested:{job.version}",
            event="review_requested",
            teams=[r.team for r in requests],
            subject=f"[Clearway] Review requested: job #{job.pk} {job.title}",
            text=(
                f"{job.team.name} asks you to review job #{job.pk} '{job.title}' "
                f"({job.get_impact_display().lower()}, {job.start:%Y-%m-%d %H:%M} to "
                f"{job.end:%Y-%m-%d %H:%M} UTC). Decision: {job.decision}.\n"
                f"{messages.findings_text(job.findings)}\n{messages.job_link(job)}"
            ),
            data=messages.job_data(job),
            job=job,
            now=now,
        )
    return requests


def _current_reviews(job: MaintenanceJob):
    return job.reviews.filter(round=job.review_round).exclude(status=ReviewStatus.SUPERSEDED)


def _reviewer_teams(job: MaintenanceJob) -> list[Team]:
    return [r.team for r in _current_reviews(job).select_related("team")]


def _notify_job_team(
    job: MaintenanceJob, *, event: str, subject: str, text: str, now: datetime, extra=()
) -> None:
    teams = {job.team.pk: job.team} | {t.pk: t for t in extra}
    notify(
        key=f"job:{job.pk}:{event}:{job.version}",
        event=event,
        teams=teams.values(),
        subject=f"[Clearway] {subject}",
        text=f"{text}\n{messages.job_link(job)}",
        data=messages.job_data(job),
        job=job,
        now=now,
    )


def _approve(job: MaintenanceJob, *, by: AbstractBaseUser | None, now: datetime, reason: str):
    _transition(job, to=JobStatus.APPROVED, action="approved", by=by, now=now, reason=reason)
    _notify_job_team(
        job,
        event="approved",
        subject=f"Approved: job #{job.pk} {job.title}",
        text=f"Job #{job.pk} '{job.title}' is approved ({reason}).",
        now=now,
    )
    calendar_changed(
        start=job.start,
        end=_last_end(job),
        systems=list(job.impacted_systems.values_list("slug", flat=True)),
        reason=f"job #{job.pk} approved",
    )


def _conflict(
    job: MaintenanceJob, *, by: AbstractBaseUser | None, now: datetime, reason: str
) -> None:
    reviewers = _reviewer_teams(job)
    job.reviews.filter(status=ReviewStatus.PENDING).update(status=ReviewStatus.SUPERSEDED)
    _transition(job, to=JobStatus.CONFLICTED, action="conflicted", by=by, now=now, reason=reason)
    slots = _suggestions(job, now)
    _notify_job_team(
        job,
        event="conflicted",
        subject=f"Conflict: job #{job.pk} {job.title} is no longer approved",
        text=(
            f"Job #{job.pk} '{job.title}' can no longer run as booked: {reason}.\n"
            f"{messages.findings_text(job.findings)}\n{messages.slots_text(slots)}"
        ),
        now=now,
        extra=reviewers,
    )


def _overrides(job: MaintenanceJob, evaluation: conflicts.Evaluation) -> bool:
    """Whether the job runs only by emergency override of a refusal.

    The administrators review an emergency only then: an emergency that is
    not refused was not asked for their review at submit, and must not gain
    it when the last requested team approves.
    """
    return job.emergency and evaluation.decision == Decision.REFUSE


def _refusing_bookings(evaluation: conflicts.Evaluation) -> list[str]:
    """Messages of refusing collisions with other approved jobs: no override passes them."""
    return [
        f.message
        for f in evaluation.findings
        if f.kind == FindingKind.MAINTENANCE
        and f.severity == Severity.REFUSE
        and "(approved)" in f.title
    ]


# --- operations ----------------------------------------------------------
# Each operation is one transaction. A serialization failure or deadlock is
# retried as a whole (retry_on_conflict), but only when the operation is the
# outermost transaction: nested in a caller's, it is the caller's to retry.


@retry_on_conflict
def maintenance_job_submit(
    *,
    job_id: int,
    by: AbstractBaseUser | None,
    emergency: bool | None = None,
    justification: str | None = None,
    now: datetime | None = None,
) -> MaintenanceJob:
    """Submit a job for review. A refused job stays as it was, and Conflict says why.

    An emergency with a written justification overrides a refusal: the
    administrators' team reviews it as well, and the override is recorded.
    """
    now = now or timezone.now()
    refusal: dict[str, Any] | None = None
    with transaction.atomic():
        job = _lock(job_id)
        _require_requester(job, by, "submit")
        emergency = job.emergency if emergency is None else emergency
        justification = (job.justification if justification is None else justification) or ""
        if job.status not in SUBMITTABLE:
            raise Conflict(
                f"Job #{job.pk} is {job.status}; only draft, rejected or conflicted jobs "
                "can be submitted.",
                code="invalid_status",
            )
        if emergency and not justification.strip():
            raise InvalidInput.for_field(
                "justification", "An emergency needs a written justification."
            )
        if _last_end(job) <= now:
            raise Conflict(f"Job #{job.pk}'s window has already ended.", code="window_ended")
        evaluation = maintenance_job_evaluate(job=job, now=now)
        blocked_by_booking = _refusing_bookings(evaluation)
        if evaluation.decision == Decision.REFUSE and (not emergency or blocked_by_booking):
            _record(job, action="submit_refused", by=by, now=now, reason="decision is refuse")
            refusal = {
                "decision": evaluation.decision,
                "findings": job.findings,
                "next_clear": messages.slots_data(_suggestions(job, now)),
                "job": job.pk,
            }
        else:
            override = emergency and evaluation.decision == Decision.REFUSE
            job.emergency, job.justification = emergency, justification.strip()
            job.save(update_fields=["emergency", "justification"])
            if override:
                _record(job, action="emergency_override", by=by, now=now, reason=justification)
            teams = required_reviews(job=job, evaluation=evaluation, override=override)
            _transition(job, to=JobStatus.PENDING, action="submitted", by=by, now=now)
            _open_round(job, teams=teams, by=by, now=now)
            if override:
                _notify_job_team(
                    job,
                    event="emergency_override",
                    subject=f"Emergency override: job #{job.pk} {job.title}",
                    text=(
                        f"{job.team.name} submitted job #{job.pk} '{job.title}' as an emergency "
                        f"despite a refusal. Justification: {justification}\n"
                        f"{messages.findings_text(job.findings)}"
                    ),
                    now=now,
                    extra=Team.objects.filter(slug=settings.CLEARWAY_ADMIN_TEAM),
                )
            if not teams:
                _approve(job, by=by, now=now, reason="no other team needs to review it")
    if refusal is not None:
        raise Conflict(
            f"Job #{job_id} is refused: " + refusal["findings"][0]["message"],
            code="refused",
            details=refusal,
        )
    return job


@retry_on_conflict
def maintenance_job_review(
    *,
    job_id: int,
    team: str,
    by: AbstractBaseUser | None,
    approve: bool,
    comment: str = "",
    now: datetime | None = None,
) -> MaintenanceJob:
    """A reviewing team approves or rejects; the last approval re-checks and approves."""
    now = now or timezone.now()
    with transaction.atomic():
        job = _lock(job_id)
        reviewer = Team.objects.filter(slug=team).first()
        if reviewer is None:
            raise InvalidInput.for_field("team", f"There is no team {team!r}.")
        # A member of the requesting team cannot review it, not even for another
        # team they also belong to: that would be self-review under another name.
        if reviewer.pk == job.team_id or (
            by is not None and job.team.members.filter(pk=by.pk).exists()
        ):
            raise NotAllowed(
                f"{job.team.name} requested job #{job.pk}; its members cannot review it."
            )
        if not is_member(by, reviewer):
            raise NotAllowed(f"Only members of {reviewer.name} can review for it.")
        if job.status != JobStatus.PENDING:
            raise Conflict(
                f"Job #{job.pk} is {job.status}, not pending review.", code="invalid_status"
            )
        review = job.reviews.filter(team=reviewer, round=job.review_round).first()
        if review is None:
            raise Conflict(f"{reviewer.name} was not asked to review job #{job.pk}.")
        if review.status != ReviewStatus.PENDING:
            raise Conflict(f"{reviewer.name} has already {review.status} job #{job.pk}.")
        review.status = ReviewStatus.APPROVED if approve else ReviewStatus.REJECTED
        review.comment, review.decided_by, review.decided_at = comment, by, now
        review.save(update_fields=["status", "comment", "decided_by", "decided_at"])
        verdict = "approved" if approve else "rejected"
        _record(
            job,
            action=f"review_{verdict}",
            by=by,
            now=now,
            reason=f"{reviewer.name}: {comment}" if comment else reviewer.name,
        )
        if not approve:
            job.reviews.filter(status=ReviewStatus.PENDING).update(status=ReviewStatus.SUPERSEDED)
            _transition(
                job,
                to=JobStatus.REJECTED,
                action="rejected",
                by=by,
                now=now,
                reason=f"{reviewer.name}: {comment}" if comment else reviewer.name,
            )
            _notify_job_team(
                job,
                event="rejected",
                subject=f"Rejected: job #{job.pk} {job.title}",
                text=f"{reviewer.name} rejected job #{job.pk} '{job.title}': {comment or '-'}",
                now=now,
            )
        elif not _current_reviews(job).exclude(status=ReviewStatus.APPROVED).exists():
            _complete_review(job, by=by, now=now)
    return job


def _complete_review(job: MaintenanceJob, *, by: AbstractBaseUser | None, now: datetime):
    evaluation = maintenance_job_evaluate(job=job, now=now)
    if blocked := _refusing_bookings(evaluation):
        _conflict(job, by=by, now=now, reason=blocked[0])
        return
    if evaluation.decision == Decision.REFUSE and not job.emergency:
        _conflict(job, by=by, now=now, reason=evaluation.findings[0].message)
        return
    asked = set(_current_reviews(job).values_list("team__slug", flat=True))
    needed = required_reviews(job=job, evaluation=evaluation, override=_overrides(job, evaluation))
    missing = {slug: why for slug, why in needed.items() if slug not in asked}
    if missing:
        _request_reviews(job, teams=missing, now=now)
        _record(job, action="reviews_added", by=None, now=now, reason=", ".join(missing))
        return
    _approve(job, by=by, now=now, reason="every team concerned approved")


@retry_on_conflict
def maintenance_job_cancel(
    *, job_id: int, by: AbstractBaseUser | None, reason: str = "", now: datetime | None = None
) -> MaintenanceJob:
    now = now or timezone.now()
    with transaction.atomic():
        job = _lock(job_id)
        _require_requester(job, by, "cancel")
        if job.status in FINISHED_STATUSES:
            raise Conflict(f"Job #{job.pk} is already {job.status}.", code="invalid_status")
        if _last_end(job) <= now:
            raise Conflict(
                f"Job #{job.pk}'s window has ended; mark it done instead.", code="window_ended"
            )
        was_booked = job.status in (JobStatus.PENDING, JobStatus.APPROVED)
        job.reviews.filter(status=ReviewStatus.PENDING).update(status=ReviewStatus.SUPERSEDED)
        _transition(job, to=JobStatus.CANCELLED, action="cancelled", by=by, now=now, reason=reason)
        if was_booked:
            calendar_changed(
                start=job.start,
                end=_last_end(job),
                systems=list(job.impacted_systems.values_list("slug", flat=True)),
                reason=f"job #{job.pk} cancelled",
            )
    return job


@retry_on_conflict
def maintenance_job_done(
    *, job_id: int, by: AbstractBaseUser | None, now: datetime | None = None
) -> MaintenanceJob:
    now = now or timezone.now()
    with transaction.atomic():
        job = _lock(job_id)
        _require_requester(job, by, "close")
        if job.status != JobStatus.APPROVED:
            raise Conflict(
                f"Only an approved job can be done; job #{job.pk} is {job.status}.",
                code="invalid_status",
            )
        if _last_end(job) > now:
            raise Conflict(
                f"Job #{job.pk}'s window has not ended yet; cancel it to stop it early.",
                code="window_open",
            )
        _transition(job, to=JobStatus.DONE, action="done", by=by, now=now)
    return job


@retry_on_conflict
def maintenance_job_update(
    *,
    job_id: int,
    by: AbstractBaseUser | None,
    now: datetime | None = None,
    title: str | None = None,
    description: str | None = None,
    systems: Iterable[str] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    timezone_name: str | None = None,
    rrule: str | None = None,
    impact: str | None = None,
    emergency: bool | None = None,
    justification: str | None = None,
) -> MaintenanceJob:
    """Edit a job. Re-scheduling a submitted job sends it back through review.

    `emergency` and `justification` are what a later submit will use; they
    change only before the job is submitted (submit records an override).
    """
    now = now or timezone.now()
    with transaction.atomic():
        new_impacted = impacted_systems(systems=systems) if systems is not None else ()
        job = _lock(job_id, extra_systems=new_impacted)
        _require_requester(job, by, "edit")
        if job.status in FINISHED_STATUSES and job.status != JobStatus.REJECTED:
            raise Conflict(f"Job #{job.pk} is {job.status}; it cannot change.")
        if title is not None and not title.strip():
            raise InvalidInput.for_field("title", "Give the job a title.")
        wants_override = (emergency is not None and emergency != job.emergency) or (
            justification is not None and justification != job.justification
        )
        if wants_override and job.status not in SUBMITTABLE:
            raise Conflict(
                f"Job #{job.pk} is {job.status}; declare an emergency when submitting it.",
                code="invalid_status",
            )
        text_changed = False
        for field, value in (
            ("title", title),
            ("description", description),
            ("emergency", emergency),
            ("justification", justification),
        ):
            if value is not None and getattr(job, field) != value:
                setattr(job, field, value.strip() if field == "title" else value)
                text_changed = True
        if text_changed:
            job.version = F("version") + 1
            job.save(
                update_fields=[
                    "title",
                    "description",
                    "emergency",
                    "justification",
                    "version",
                    "updated_at",
                ]
            )
            job.refresh_from_db(fields=["version"])
        moved = maintenance_job_change_window(
            job=job,
            systems=systems,
            start=start,
            end=end,
            timezone=timezone_name,
            rrule=rrule,
            impact=impact,
            now=now,
        )
        if moved:
            _record(job, action="rescheduled", by=by, now=now, reason="new window or systems")
            if job.status in RESCHEDULE_REVIEWS:
                _resubmit(job, by=by, now=now)
    return job


def _resubmit(job: MaintenanceJob, *, by: AbstractBaseUser | None, now: datetime) -> None:
    evaluation = maintenance_job_evaluate(job=job, now=now)
    if evaluation.decision == Decision.REFUSE and (
        not job.emergency or _refusing_bookings(evaluation)
    ):
        _conflict(job, by=by, now=now, reason="the new window is refused")
        return
    teams = required_reviews(job=job, evaluation=evaluation, override=_overrides(job, evaluation))
    if job.status != JobStatus.PENDING:
        _transition(job, to=JobStatus.PENDING, action="resubmitted", by=by, now=now)
    _open_round(job, teams=teams, by=by, now=now)
    if not teams:
        _approve(job, by=by, now=now, reason="no other team needs to review it")


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


@retry_on_conflict
def maintenance_job_reevaluate(*, job_id: int, reason: str, now: datetime | None = None) -> None:
    """Re-check a booked job after a calendar changed; take it out of approval if needed.

    A new refusing finding conflicts the job; a new flag sends an approved job
    back to review by the teams now concerned (a flag from another team's
    booking does not: that team's job was reviewed against this one).
    """
    now = now or timezone.now()
    with transaction.atomic():
        job = MaintenanceJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status in FINISHED_STATUSES:
            return
        old_decision = job.decision or Decision.CLEAR
        before = job.findings
        evaluation = maintenance_job_evaluate(job=job, now=now)
        fresh = _new_or_worse(evaluation.findings, before=before)
        if evaluation.decision != old_decision or fresh:
            _record(
                job,
                action="reevaluated",
                by=None,
                now=now,
                from_status=job.status,
                to_status=job.status,
                reason=f"{reason}: decision {old_decision} -> {evaluation.decision}",
            )
        if job.status not in (JobStatus.PENDING, JobStatus.APPROVED) or not fresh:
            return
        if decide(fresh) == Decision.REFUSE:
            _conflict(job, by=None, now=now, reason=f"{reason}: {fresh[0].message}")
            return
        flags = [f for f in fresh if f.kind != FindingKind.MAINTENANCE]
        if not flags:
            return
        needed = required_reviews(
            job=job, evaluation=evaluation, override=_overrides(job, evaluation)
        )
        if job.status == JobStatus.APPROVED:
            _transition(
                job,
                to=JobStatus.PENDING,
                action="back_to_review",
                by=None,
                now=now,
                reason=f"{reason}: {flags[0].message}",
            )
            _open_round(job, teams=needed, by=None, now=now)
            _notify_job_team(
                job,
                event="back_to_review",
                subject=f"Back to review: job #{job.pk} {job.title}",
                # Like a conflict, it says what collided and where the job could
                # move instead of waiting for the new round.
                text=(
                    f"Job #{job.pk} '{job.title}' needs review again: {reason}.\n"
                    f"{messages.findings_text(job.findings)}\n"
                    f"{messages.slots_text(_suggestions(job, now))}"
                ),
                now=now,
            )
            if not needed:
                _approve(job, by=None, now=now, reason="no other team needs to review it")
        else:
            asked = set(_current_reviews(job).values_list("team__slug", flat=True))
            missing = {slug: why for slug, why in needed.items() if slug not in asked}
            if missing:
                _request_reviews(job, teams=missing, now=now)

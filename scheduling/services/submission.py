"""Submitting a job for review, and editing it (a new window goes back through review)."""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from scheduling import conflicts, freezes
from scheduling.choices import (
    BOOKED_STATUSES,
    FINISHED_STATUSES,
    Decision,
    FindingKind,
    JobAction,
    JobStatus,
    Severity,
)
from scheduling.db import retry_on_conflict
from scheduling.engine import FAR_FUTURE
from scheduling.errors import Conflict, InvalidInput
from scheduling.models import ApiToken, MaintenanceJob, StandardChange, Team
from scheduling.selectors import impacted_systems
from scheduling.services import jobs, messages, reviews, transitions
from scheduling.services.calendar import calendar_changed
from scheduling.services.calendar_batch import calendar_batch
from scheduling.services.transitions import RESCHEDULE_REVIEWS, SUBMITTABLE
from scheduling.text import title_problem
from scheduling.timeline.services import timeline_refresh_job

NO_REVIEW_NEEDED = "no other team needs to review it"
STANDARD_CLEAR = "a standard change, and its window is clear"


def _check_submittable(
    job: MaintenanceJob, *, emergency: bool, justification: str, now: datetime
) -> None:
    if job.status not in SUBMITTABLE:
        raise Conflict(
            f"Job #{job.pk} is {job.status}; only draft, rejected or conflicted jobs "
            "can be submitted.",
            code="invalid_status",
        )
    if emergency and not justification.strip():
        raise InvalidInput.for_field("justification", "An emergency needs a written justification.")
    if transitions.last_end(job) <= now:
        raise Conflict(f"Job #{job.pk}'s window has already ended.", code="window_ended")


def _refusal(
    job: MaintenanceJob, evaluation: conflicts.Evaluation, frozen: list[dict], now: datetime
) -> dict:
    return {
        "decision": Decision.REFUSE,
        # A freeze first: it is what a team can do least about.
        "findings": frozen + job.findings,
        "next_clear": messages.slots_data(transitions.suggestions(job, now)),
        "job": job.pk,
    }


def _send_for_review(
    job: MaintenanceJob,
    *,
    evaluation: conflicts.Evaluation,
    action: str,
    by: User | None,
    now: datetime,
    frozen: bool = False,
    token: ApiToken | None = None,
) -> None:
    """Make the job pending and ask the teams concerned; an emergency may override a refusal.

    Submitting and moving a job (`action`: submitted or resubmitted) both end
    here, so an override is recorded and announced whichever way it was declared.
    `token`: the team token `by` acted through, recorded so that its maker is
    known as the one who asked (see reviews).
    """
    override = job.emergency and (evaluation.decision == Decision.REFUSE or frozen)
    if override:
        if not job.justification.strip():
            raise InvalidInput.for_field(
                "justification", "An emergency needs a written justification."
            )
        transitions.record(
            job,
            action=JobAction.EMERGENCY_OVERRIDE,
            by=by,
            now=now,
            reason=job.justification,
            token=token,
        )
    teams = reviews.required_reviews(job=job, evaluation=evaluation, override=override)
    if job.status != JobStatus.PENDING:
        transitions.transition(
            job, to=JobStatus.PENDING, action=action, by=by, now=now, token=token
        )
    reviews.open_round(job, teams=teams, now=now)
    if override:
        transitions.notify_job_team(
            job,
            event="emergency_override",
            message=messages.emergency_override(job, justification=job.justification),
            now=now,
            extra=Team.objects.filter(slug=settings.CLEARWAY_ADMIN_TEAM),
        )
    if not teams:
        standard = job.template_id and evaluation.decision == Decision.CLEAR
        transitions.approve(
            job, by=by, now=now, reason=STANDARD_CLEAR if standard else NO_REVIEW_NEEDED
        )


def _freezes_over(
    job: MaintenanceJob, *, evaluation: conflicts.Evaluation, now: datetime
) -> list[dict[str, Any]]:
    """Freezes over the job's remaining windows, as findings: new bookings there are refused."""
    return [
        {
            "kind": FindingKind.FREEZE,
            "severity": Severity.REFUSE,
            "start": interval.start.isoformat(),
            "end": None if interval.end >= FAR_FUTURE else interval.end.isoformat(),
            "systems": sorted(interval.systems),
            "title": "Change freeze",
            "message": freezes.freeze_message(interval),
            "sources": [f"freeze:{interval.freeze_id}"],
            "url": "/freeze/",
        }
        for interval in freezes.freeze_covering(
            windows=jobs.upcoming_windows(job=job, now=now), systems=evaluation.impacted
        )
    ]


# Each operation is one transaction, retried as a whole on a serialization
# failure when it is the outermost one (see transitions.py).


@retry_on_conflict
def maintenance_job_submit(
    *,
    job_id: int,
    by: User | None,
    emergency: bool | None = None,
    justification: str | None = None,
    now: datetime | None = None,
    token: ApiToken | None = None,
) -> MaintenanceJob:
    """Submit a job for review. A refused job stays as it was, and Conflict says why.

    An emergency with a written justification overrides a refusal: the
    administrators' team reviews it as well, and the override is recorded.
    """
    now = now or timezone.now()
    refusal: dict[str, Any] | None = None
    with transaction.atomic():
        job = transitions.lock_job(job_id)
        transitions.require_requester(job, by, "submit")
        emergency = job.emergency if emergency is None else emergency
        justification = (job.justification if justification is None else justification) or ""
        _check_submittable(job, emergency=emergency, justification=justification, now=now)
        evaluation = jobs.maintenance_job_evaluate(job=job, now=now)
        frozen = _freezes_over(job, evaluation=evaluation, now=now)
        blocked_by_booking = reviews.refusing_bookings(evaluation)
        refused = evaluation.decision == Decision.REFUSE or frozen
        if refused and (not emergency or blocked_by_booking):
            transitions.record(
                job,
                action=JobAction.SUBMIT_REFUSED,
                by=by,
                now=now,
                reason="a change freeze covers it" if frozen else "decision is refuse",
            )
            refusal = _refusal(job, evaluation, frozen, now)
        else:
            job.emergency, job.justification = emergency, justification.strip()
            job.save(update_fields=["emergency", "justification"])
            _send_for_review(
                job,
                evaluation=evaluation,
                action=JobAction.SUBMITTED,
                by=by,
                now=now,
                frozen=bool(frozen),
                token=token,
            )
            transitions.store_feed_text(job, now=now)
    # Raised after the block so the refused attempt's event is committed.
    if refusal is not None:
        raise Conflict(
            f"Job #{job_id} is refused: " + refusal["findings"][0]["message"],
            code="refused",
            details=refusal,
        )
    return job


def _check_editable(
    job: MaintenanceJob, *, title: str | None, emergency: bool | None, justification: str | None
) -> None:
    if job.status in FINISHED_STATUSES and job.status != JobStatus.REJECTED:
        raise Conflict(f"Job #{job.pk} is {job.status}; it cannot change.")
    if title is not None and (problem := title_problem(title, noun="job")):
        raise InvalidInput("The job is not valid.", fields={"title": [problem]})
    wants_override = (emergency is not None and emergency != job.emergency) or (
        justification is not None and justification != job.justification
    )
    if wants_override and job.status not in SUBMITTABLE:
        raise Conflict(
            f"Job #{job.pk} is {job.status}; declare an emergency when submitting it.",
            code="invalid_status",
        )


def _apply_texts(job: MaintenanceJob, *, by: User | None, now: datetime, **values: Any) -> None:
    """Set the non-scheduling fields that are given and differ; save once and audit if any did.

    They do not change what the job does, so an approval stands; the audit
    trail says what changed, so reviewers can see the job they approved was renamed.
    """
    changes = []
    for field, value in values.items():
        value = value.strip() if field == "title" and value is not None else value
        if value is not None and getattr(job, field) != value:
            changes.append(_text_change(field, getattr(job, field), value))
            setattr(job, field, value)
    if changes:
        job.version = F("version") + 1
        job.save(update_fields=[*values, "version", "updated_at"])
        job.refresh_from_db(fields=["version"])
        # A booked job's title is in the findings it makes for others.
        timeline_refresh_job(job_id=job.pk)
        transitions.record(job, action=JobAction.EDITED, by=by, now=now, reason="; ".join(changes))


def _text_change(field: str, old: Any, new: Any) -> str:
    if field == "title":
        return f"title: {old!r} -> {new!r}"
    if isinstance(new, str) and len(new) > 80:
        return f"{field} changed ({len(str(old))} -> {len(new)} characters)"
    return f"{field}: {old!r} -> {new!r}"


def _resubmit(
    job: MaintenanceJob, *, by: User | None, now: datetime, token: ApiToken | None = None
) -> None:
    evaluation = jobs.maintenance_job_evaluate(job=job, now=now)
    frozen = _freezes_over(job, evaluation=evaluation, now=now)
    if frozen and not job.emergency:
        # Moving a booking into a freeze is a new booking there: refused, and the
        # edit is rolled back with the error (the job keeps its old window).
        raise Conflict(
            f"Job #{job.pk} cannot move there: {frozen[0]['message']}",
            code="refused",
            details={"decision": Decision.REFUSE, "findings": frozen + job.findings},
        )
    if evaluation.decision == Decision.REFUSE and (
        not job.emergency or reviews.refusing_bookings(evaluation)
    ):
        transitions.conflict(job, by=by, now=now, reason="the new window is refused")
        return
    _send_for_review(
        job,
        evaluation=evaluation,
        action=JobAction.RESUBMITTED,
        by=by,
        now=now,
        frozen=bool(frozen),
        token=token,
    )


Booking = tuple[datetime, datetime, list[str]]


def _booking(job: MaintenanceJob) -> Booking | None:
    """Where and when the job's booking lies while it is pending or approved (None: none)."""
    if job.status not in BOOKED_STATUSES:
        return None
    systems = list(job.impacted_systems.values_list("slug", flat=True))
    return job.start, transitions.last_end(job), systems


def _booking_moved(job: MaintenanceJob, *, before: Booking | None) -> None:
    """The jobs under the old booking and the new one are evaluated again, as after a
    cancellation: a job only the old window refused comes back by itself."""
    with calendar_batch(reason=f"job #{job.pk} rescheduled"):
        for booking in (before, _booking(job)):
            if booking is not None:
                start, end, systems = booking
                calendar_changed(
                    start=start,
                    end=end,
                    systems=systems,
                    reason=f"job #{job.pk} rescheduled",
                    kinds=(),
                )


@retry_on_conflict
def maintenance_job_update(
    *,
    job_id: int,
    by: User | None,
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
    token: ApiToken | None = None,
) -> MaintenanceJob:
    """Edit a job. Re-scheduling a submitted job sends it back through review, and an
    `emergency` is then recorded and announced as an override, as on submit."""
    now = now or timezone.now()
    with transaction.atomic():
        new_impacted = impacted_systems(systems=systems) if systems is not None else ()
        job = transitions.lock_job(job_id, extra_systems=new_impacted)
        transitions.require_requester(job, by, "edit")
        _check_editable(job, title=title, emergency=emergency, justification=justification)
        _apply_texts(
            job,
            by=by,
            now=now,
            title=title,
            description=description,
            emergency=emergency,
            justification=justification,
        )
        booked = _booking(job)
        moved = jobs.maintenance_job_change_window(
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
            transitions.record(
                job,
                action=JobAction.RESCHEDULED,
                by=by,
                now=now,
                reason="new window or systems",
                token=token,
            )
            if job.status in RESCHEDULE_REVIEWS:
                _resubmit(job, by=by, now=now, token=token)
            _booking_moved(job, before=booked)
        transitions.store_feed_text(job, now=now)
    return job


@retry_on_conflict
def maintenance_job_book(
    *,
    team: Team,
    title: str,
    systems: Iterable[str],
    start: datetime,
    end: datetime,
    impact: str,
    submit: bool,
    timezone: str = "UTC",
    rrule: str = "",
    description: str = "",
    emergency: bool = False,
    justification: str = "",
    template: StandardChange | None = None,
    by: User | None = None,
    now: datetime | None = None,
    token: ApiToken | None = None,
) -> MaintenanceJob:
    """Book a job as a draft and, with `submit`, send it to review, in one transaction.

    A refused submission leaves no draft behind. Being one operation, a
    serialization failure retries the booking and the submission together
    (a submit nested in its caller's transaction is not retried on its own).
    """
    with transaction.atomic():
        job = jobs.maintenance_job_create(
            team=team,
            title=title,
            systems=systems,
            start=start,
            end=end,
            impact=impact,
            timezone=timezone,
            rrule=rrule,
            description=description,
            emergency=emergency,
            justification=justification,
            template=template,
            by=by,
            now=now,
            token=token,
        )
        if submit:
            try:
                job = maintenance_job_submit(
                    job_id=job.pk,
                    by=by,
                    emergency=emergency,
                    justification=justification,
                    now=now,
                    token=token,
                )
            except Conflict as exc:
                if exc.code != "refused":
                    raise
                raise _not_booked(exc) from None
    return job


def _not_booked(refusal: Conflict) -> Conflict:
    """A booking's refused submit: the draft is rolled back with it, so name no job."""
    details = {key: value for key, value in refusal.details.items() if key != "job"}
    return Conflict(
        "Not booked, the window is refused: " + details["findings"][0]["message"],
        code="refused",
        details=details,
    )

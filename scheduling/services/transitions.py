"""The steps every job operation shares: lock, record, change status, notify.

Every transition locks the impacted systems' rows (in primary-key order) and
then the job's row, so two bookings racing for the same slot are decided one
after the other: the second sees the first and is refused. On SQLite the
IMMEDIATE transaction mode serialises writers the same way.

Also home of the two operations that are a transition and nothing more:
`maintenance_job_cancel` and `maintenance_job_done`.
"""

from collections.abc import Iterable
from datetime import datetime

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from scheduling import conflicts
from scheduling.calendar_feeds.stored import feed_texts_store
from scheduling.choices import FINISHED_STATUSES, JobAction, JobStatus, ReviewStatus
from scheduling.db import retry_on_conflict
from scheduling.engine import Slot
from scheduling.errors import Conflict, NotAllowed, NotFound
from scheduling.models import ApiToken, JobEvent, MaintenanceJob, System, Team
from scheduling.selectors import is_member
from scheduling.services import messages
from scheduling.services.calendar import calendar_change_record, calendar_changed
from scheduling.services.notifications import notify
from scheduling.timeline.services import timeline_refresh_job

SUBMITTABLE = (JobStatus.DRAFT, JobStatus.REJECTED, JobStatus.CONFLICTED)
RESCHEDULE_REVIEWS = (JobStatus.PENDING, JobStatus.APPROVED, JobStatus.CONFLICTED)


def store_feed_text(job: MaintenanceJob, *, now: datetime) -> None:
    """Store the job's feed text in the change's transaction: the next feed renders nothing."""
    feed_texts_store(kind="job", ids=[job.pk], now=now)


def require_requester(job: MaintenanceJob, by: User | None, verb: str) -> None:
    if not is_member(by, job.team):
        raise NotAllowed(f"Only members of {job.team.name} can {verb} job #{job.pk}.")


def lock_job(job_id: int, *, extra_systems: Iterable[str] = ()) -> MaintenanceJob:
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


def record(
    job: MaintenanceJob,
    *,
    action: str,
    by: User | None,
    now: datetime,
    from_status: str = "",
    to_status: str = "",
    reason: str = "",
    token: ApiToken | None = None,
) -> JobEvent:
    entry = event(
        job,
        action=action,
        by=by,
        now=now,
        from_status=from_status,
        to_status=to_status,
        reason=reason,
        token=token,
    )
    entry.save()
    return entry


def event(
    job: MaintenanceJob,
    *,
    action: str,
    by: User | None,
    now: datetime,
    from_status: str = "",
    to_status: str = "",
    reason: str = "",
    token: ApiToken | None = None,
) -> JobEvent:
    """The history entry `record` saves, unsaved (a batch saves many at once).

    `token`: the team token `by` (its CI account) acted through, if any.
    """
    return JobEvent(
        job=job,
        at=now,
        actor=by,
        token=token,
        action=action,
        from_status=from_status,
        to_status=to_status,
        decision=job.decision,
        reason=reason,
        findings=job.findings,
    )


def transition(
    job: MaintenanceJob,
    *,
    to: str,
    action: str,
    by: User | None,
    now: datetime,
    reason: str = "",
    token: ApiToken | None = None,
) -> None:
    from_status = job.status
    job.status = to
    calendar_change_record(reason=f"job #{job.pk} {from_status} -> {to}")
    job.version = F("version") + 1
    job.save(update_fields=["status", "version", "updated_at"])
    job.refresh_from_db(fields=["version"])
    timeline_refresh_job(job_id=job.pk)
    record(
        job,
        action=action,
        by=by,
        now=now,
        from_status=from_status,
        to_status=to,
        reason=reason,
        token=token,
    )


def last_end(job: MaintenanceJob) -> datetime:
    return job.occurrences.order_by("-end").values_list("end", flat=True).first() or job.end


def suggestions(job: MaintenanceJob, now: datetime, limit: int = 3) -> list[Slot]:
    # next_clear rounds `after` up to a quarter hour (engine.round_up).
    after = max(now, job.start)
    return conflicts.next_clear(
        systems=job.systems.values_list("slug", flat=True),
        duration=job.end - job.start,
        impact=job.impact,
        after=after,
        limit=limit,
        exclude_job=job.pk,
    )


def notify_teams(
    job: MaintenanceJob,
    *,
    key: str,
    event: str,
    teams: Iterable[Team],
    message: tuple[str, str],
    now: datetime,
) -> None:
    subject, text = message
    notify(
        key=key,
        event=event,
        teams=teams,
        subject=f"[Clearway] {subject}",
        text=f"{text}\n{messages.job_link(job)}",
        data=messages.job_data(job),
        job=job,
        now=now,
    )


def notify_job_team(
    job: MaintenanceJob,
    *,
    event: str,
    message: tuple[str, str],
    now: datetime,
    extra: Iterable[Team] = (),
) -> None:
    teams = {job.team.pk: job.team} | {t.pk: t for t in extra}
    notify_teams(
        job,
        key=f"job:{job.pk}:{event}:{job.version}",
        event=event,
        teams=teams.values(),
        message=message,
        now=now,
    )


def current_reviews(job: MaintenanceJob):
    return job.reviews.filter(round=job.review_round).exclude(status=ReviewStatus.SUPERSEDED)


def supersede_pending_reviews(job: MaintenanceJob) -> None:
    job.reviews.filter(status=ReviewStatus.PENDING).update(status=ReviewStatus.SUPERSEDED)


def approve(job: MaintenanceJob, *, by: User | None, now: datetime, reason: str):
    transition(job, to=JobStatus.APPROVED, action=JobAction.APPROVED, by=by, now=now, reason=reason)
    notify_job_team(job, event="approved", message=messages.approved(job, reason=reason), now=now)
    calendar_changed(
        start=job.start,
        end=last_end(job),
        systems=list(job.impacted_systems.values_list("slug", flat=True)),
        reason=f"job #{job.pk} approved",
        kinds=(),
    )


def conflict(job: MaintenanceJob, *, by: User | None, now: datetime, reason: str) -> None:
    reviewers = [r.team for r in current_reviews(job).select_related("team")]
    supersede_pending_reviews(job)
    transition(
        job, to=JobStatus.CONFLICTED, action=JobAction.CONFLICTED, by=by, now=now, reason=reason
    )
    notify_job_team(
        job,
        event="conflicted",
        message=messages.conflicted(job, reason=reason, slots=suggestions(job, now)),
        now=now,
        extra=reviewers,
    )


# --- operations ----------------------------------------------------------
# Each operation is one transaction. A serialization failure or deadlock is
# retried as a whole (retry_on_conflict), but only when the operation is the
# outermost transaction: nested in a caller's, it is the caller's to retry.


@retry_on_conflict
def maintenance_job_cancel(
    *, job_id: int, by: User | None, reason: str = "", now: datetime | None = None
) -> MaintenanceJob:
    now = now or timezone.now()
    with transaction.atomic():
        job = lock_job(job_id)
        require_requester(job, by, "cancel")
        if job.status in FINISHED_STATUSES:
            raise Conflict(f"Job #{job.pk} is already {job.status}.", code="invalid_status")
        if last_end(job) <= now and job.status == JobStatus.APPROVED:
            # Only approved work may have run; a job never approved in its
            # window can only be called off, or it would stay open for ever.
            raise Conflict(
                f"Job #{job.pk}'s window has ended; mark it done instead.", code="window_ended"
            )
        was_booked = job.status in (JobStatus.PENDING, JobStatus.APPROVED)
        supersede_pending_reviews(job)
        transition(
            job, to=JobStatus.CANCELLED, action=JobAction.CANCELLED, by=by, now=now, reason=reason
        )
        if was_booked:
            calendar_changed(
                start=job.start,
                end=last_end(job),
                systems=list(job.impacted_systems.values_list("slug", flat=True)),
                reason=f"job #{job.pk} cancelled",
                kinds=(),
            )
        store_feed_text(job, now=now)
    return job


@retry_on_conflict
def maintenance_job_done(
    *, job_id: int, by: User | None, now: datetime | None = None
) -> MaintenanceJob:
    now = now or timezone.now()
    with transaction.atomic():
        job = lock_job(job_id)
        require_requester(job, by, "close")
        if job.status != JobStatus.APPROVED:
            raise Conflict(
                f"Only an approved job can be done; job #{job.pk} is {job.status}.",
                code="invalid_status",
            )
        if last_end(job) > now:
            raise Conflict(
                f"Job #{job.pk}'s window has not ended yet; cancel it to stop it early.",
                code="window_open",
            )
        transition(job, to=JobStatus.DONE, action=JobAction.DONE, by=by, now=now)
        store_feed_text(job, now=now)
    return job

"""Re-evaluate booked jobs when a calendar changes under them."""

from collections.abc import Iterable
from datetime import datetime

from django.utils import timezone

from scheduling.choices import FINISHED_STATUSES
from scheduling.models import MaintenanceJob
from scheduling.queue import enqueue
from scheduling.selectors import impacted_systems
from scheduling.services.calendar import calendar_change_record


def calendar_changed(
    *, start: datetime, end: datetime, systems: Iterable[str] | None, reason: str
) -> None:
    """Called by every service that changes a calendar, inside its transaction.

    `systems` None means all systems. The re-evaluation runs as a task after
    the change commits.
    """
    calendar_change_record(reason=reason)
    enqueue(
        "scheduling.tasks.reevaluate_jobs",
        start=start.isoformat(),
        end=end.isoformat(),
        systems=sorted(systems) if systems is not None else None,
        reason=reason,
    )


def jobs_touching(
    *, start: datetime, end: datetime, systems: Iterable[str] | None, now: datetime
) -> list[int]:
    """Ids of unfinished jobs with a window that has not ended, in [start, end), on `systems`."""
    jobs = MaintenanceJob.objects.exclude(status__in=FINISHED_STATUSES).filter(
        occurrences__start__lt=end,
        occurrences__end__gt=max(start, now),
    )
    if systems is not None:
        jobs = jobs.filter(impacted_systems__slug__in=impacted_systems(systems=systems))
    return list(jobs.order_by("pk").values_list("pk", flat=True).distinct())


def reevaluate_jobs(
    *,
    start: datetime,
    end: datetime,
    systems: Iterable[str] | None,
    reason: str,
    now: datetime | None = None,
) -> list[int]:
    """Re-evaluate every job the change touches; return their ids."""
    from scheduling.services.lifecycle import maintenance_job_reevaluate

    now = now or timezone.now()
    job_ids = jobs_touching(start=start, end=end, systems=systems, now=now)
    for job_id in job_ids:
        maintenance_job_reevaluate(job_id=job_id, reason=reason, now=now)
    return job_ids

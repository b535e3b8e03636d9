"""Materialised occurrences: recurring rules expanded once, queried by range."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from scheduling import recurrence
from scheduling.models import AllowedWindowOccurrence, JobOccurrence, MaintenanceJob, System
from scheduling.services.calendar import calendar_change_record, calendar_changed
from scheduling.timeline.services import timeline_refresh_allowed, timeline_refresh_job


def horizon_end(*, now: datetime | None = None) -> datetime:
    return (now or timezone.now()) + timedelta(days=settings.CLEARWAY_HORIZON_DAYS)


def job_occurrence_windows(*, job: MaintenanceJob) -> list[tuple[datetime, datetime]]:
    """Every window of a job (bounded rules only, so all of them)."""
    if not job.rrule:
        return [(job.start, job.end)]
    return [
        (o.start, o.end)
        for o in recurrence.expand(
            rrule_text=job.rrule,
            start=job.start,
            end=job.end,
            zone_name=job.timezone,
            cap=settings.CLEARWAY_MAX_JOB_OCCURRENCES,
        )
    ]


@transaction.atomic
def job_materialise(*, job: MaintenanceJob) -> list[tuple[datetime, datetime]]:
    windows = job_occurrence_windows(job=job)
    JobOccurrence.objects.filter(job=job).delete()
    JobOccurrence.objects.bulk_create(
        JobOccurrence(job=job, start=start, end=end) for start, end in windows
    )
    calendar_change_record(reason=f"job #{job.pk} windows")
    timeline_refresh_job(job_id=job.pk)
    return windows


def _window_anchor(system: System) -> datetime:
    """The first local occurrence of a system's allowed window rule.

    Rules are anchored on 2000-01-01 in their zone so that weekly and monthly
    rules (with BYDAY/BYMONTHDAY) mean the same thing whenever they are saved.
    """
    tz = recurrence.stored_zone(system.window_timezone, field="maintenance_window")
    start_time = system.window_start_time
    assert start_time is not None, "only a system with an allowed window rule has an anchor"
    return datetime(2000, 1, 1, tzinfo=tz).replace(hour=start_time.hour, minute=start_time.minute)


def allowed_window_occurrences(
    *, system: System, after: datetime, before: datetime
) -> list[recurrence.Occurrence]:
    anchor = _window_anchor(system)
    duration = system.window_duration
    assert duration is not None, "check_maintenance_window requires a duration with a rule"
    return recurrence.expand(
        rrule_text=system.window_rrule,
        start=anchor,
        end=anchor + duration,
        zone_name=system.window_timezone,
        after=after,
        before=before,
        cap=settings.CLEARWAY_MAX_RULE_OCCURRENCES,
        field="maintenance_window",
    )


@transaction.atomic
def allowed_windows_materialise(
    *, system: System, now: datetime | None = None
) -> tuple[datetime, datetime] | None:
    """Store a system's allowed windows around now; return the span where those that have
    not ended changed (None: the same as before; windows dropped a month back concern
    only the past, which no evaluation reads)."""
    now = now or timezone.now()
    stored = AllowedWindowOccurrence.objects.filter(system=system)
    before = set(stored.values_list("start", "end"))
    stored.delete()
    windows: set[tuple[datetime, datetime]] = set()
    if system.has_maintenance_window:
        occurrences = allowed_window_occurrences(
            system=system, after=now - timedelta(days=31), before=horizon_end(now=now)
        )
        AllowedWindowOccurrence.objects.bulk_create(
            AllowedWindowOccurrence(system=system, start=o.start, end=o.end) for o in occurrences
        )
        windows = {(o.start, o.end) for o in occurrences}
        calendar_change_record(reason=f"{system.slug} allowed windows")
    timeline_refresh_allowed(system=system)
    changed = [(lo, hi) for lo, hi in before.symmetric_difference(windows) if hi > now]
    if not changed:
        return None
    return min(s for s, _ in changed), max(e for _, e in changed)


def allowed_windows_refresh_all(*, now: datetime | None = None) -> int:
    """Daily: roll every system's allowed windows on to the horizon.

    Windows that came into the horizon make the time beyond the old one
    allowed: the jobs booked there are evaluated again.
    """
    now = now or timezone.now()
    systems = System.objects.exclude(window_rrule="")
    for system in systems:
        changed = allowed_windows_materialise(system=system, now=now)
        if changed is not None:
            calendar_changed(
                start=changed[0],
                end=changed[1],
                systems=[system.slug],
                reason=f"{system.slug} allowed windows rolled to the horizon",
                kinds=(),
            )
    return len(systems)

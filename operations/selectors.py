"""Reads of the operations app: jobs and runs by id, runs for the pages and the calendar."""

from datetime import datetime

from operations.models import Observation, Run, RunStatus
from scheduling.errors import NotFound
from scheduling.gate import Reason, gate_note
from scheduling.models import MaintenanceJob


def job_get(*, job_id: int) -> MaintenanceJob:
    job = MaintenanceJob.objects.select_related("team").filter(pk=job_id).first()
    if job is None:
        raise NotFound(f"There is no job #{job_id}.")
    return job


def run_get(*, job_id: int, run_id: int, lock: bool = False) -> Run:
    """Run `run_id` of job `job_id` (404 when the run belongs to another job)."""
    runs = Run.objects.select_related("job", "job__team")
    if lock:
        runs = runs.select_for_update()
    run = runs.filter(pk=run_id, job_id=job_id).first()
    if run is None:
        raise NotFound(f"Job #{job_id} has no run #{run_id}.")
    return run


def runs_of_job(*, job_id: int, limit: int = 100) -> list[Run]:
    return list(Run.objects.filter(job_id=job_id)[:limit])


def runs_between(
    *, start: datetime, end: datetime, system: str = "", team: str = "", limit: int = 50
) -> list[Run]:
    """Runs going at some point of [start, end) (a running one counts until it finishes),
    on jobs that impact `system` or belong to `team` when given."""
    runs = Run.objects.filter(started_at__lt=end).exclude(finished_at__lte=start)
    if system:
        runs = runs.filter(job__impacted_systems__slug=system)
    if team:
        runs = runs.filter(job__team__slug=team)
    return list(runs.select_related("job").distinct().order_by("-started_at")[:limit])


# Whether job %s has an overrunning run: asked inside the gate's own read.
OVERRUN_PROBE = (
    f"SELECT 1 FROM {Run._meta.db_table} WHERE job_id = %s "  # noqa: S608 - constant SQL
    f"AND status = '{RunStatus.RUNNING.value}' AND overrun_at IS NOT NULL"
)


@gate_note(probe=OVERRUN_PROBE)
def gate_overrun_reasons(*, job_id: int, at: datetime) -> list[Reason]:
    """A closed gate also says which of the job's runs is still going past its window."""
    overrunning = Run.objects.filter(
        job_id=job_id, status=RunStatus.RUNNING, overrun_at__isnull=False
    ).order_by("started_at")
    reasons = []
    for run in overrunning[:5]:
        minutes = max(int((at - run.window_end).total_seconds() // 60), 0)
        stop = (
            f" It was asked to stop at {run.stop_requested_at:%H:%M} UTC."
            if run.stop_requested_at
            else ""
        )
        reasons.append(
            Reason(
                "overrun",
                f"Run #{run.pk} of job #{job_id} is still running {minutes} min after its "
                f"window ended at {run.window_end:%Y-%m-%d %H:%M} UTC.{stop}",
                url=f"/jobs/{job_id}/#run-{run.pk}",
            )
        )
    return reasons


def observations_seen(
    *, system: str | None, kind: str | None, unbooked_only: bool, limit: int = 200
) -> list[Observation]:
    """What the monitors saw, latest first, optionally of one system, one kind, or unbooked."""
    observations = Observation.objects.select_related("system")
    if system is not None:
        observations = observations.filter(system__slug=system)
    if kind is not None:
        observations = observations.filter(kind=kind)
    if unbooked_only:
        observations = observations.filter(unbooked=True)
    return list(observations[:limit])

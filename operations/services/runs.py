"""Runs: CI reports the work a gate let through; Clearway watches it for overruns.

`run_start` asks the gate and records a run; heartbeats and the finish are
idempotent by run id. `runs_watch_due` is the one scheduled task's body: it
claims one due run at a time (STYLE habit 4) and marks it lost, or overrun,
notifying the job's team and the impacted systems' owners again every
CLEARWAY_OVERRUN_REPEAT, and asking the run to stop by itself once the overrun
reaches traffic that refuses the job.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from operations import traffic
from operations.errors import GateClosed
from operations.models import FINISHED, Run, RunStatus
from operations.selectors import job_get, run_get
from scheduling import gate
from scheduling.choices import JobStatus
from scheduling.errors import Conflict, InvalidInput, NotAllowed
from scheduling.models import MaintenanceJob, Team
from scheduling.services.messages import job_data, job_link
from scheduling.services.notifications import notify

# How far past the window an overrun notice looks for refusing traffic.
TRAFFIC_LOOK_AHEAD = timedelta(hours=48)
# How often an overrunning run not yet asked to stop is looked at (the watcher runs every minute).
OVERRUN_RECHECK = timedelta(minutes=1)
CLEARWAY = "clearway"
MAX_KEY = 200
MAX_REASON = 2000


@dataclass(frozen=True)
class HeartbeatAnswer:
    run: Run
    stop: bool
    reason: str


def check_may_report(*, job: MaintenanceJob, user, token_team_id: int | None) -> None:
    """Only the job's own team (its members, or its token) reports runs; admins too."""
    if token_team_id is not None:
        if token_team_id != job.team_id:
            raise NotAllowed(f"This token does not belong to job #{job.pk}'s team.")
        return
    if user.is_staff or job.team.members.filter(pk=user.pk).exists():
        return
    raise NotAllowed(f"Only {job.team.slug} reports runs of job #{job.pk}.")


def _watchers(job: MaintenanceJob) -> list[Team]:
    """The job's team and the owners of every system it impacts."""
    owners = Team.objects.filter(systems__impacting_jobs=job).distinct()
    return [job.team, *[team for team in owners if team.pk != job.team_id]]


def _next_check(run: Run, now: datetime) -> datetime:
    lost_at = run.last_heartbeat_at + settings.CLEARWAY_RUN_LOST_AFTER
    if run.overrun_at is None:
        return min(run.window_end, lost_at)
    moments = [lost_at, (run.overrun_notified_at or now) + settings.CLEARWAY_OVERRUN_REPEAT]
    if run.stop_requested_at is None:
        # A deadline published during the overrun can bring refusing traffic
        # before the next notice: look again at the watcher's pace (it notifies
        # only when a notice is due or that traffic begins).
        moments.append(now + OVERRUN_RECHECK)
        if run.refusing_traffic_at:
            moments.append(run.refusing_traffic_at)
    return max(min(moments), now)


def run_start(
    *,
    job_id: int,
    user,
    token_team_id: int | None = None,
    idempotency_key: str = "",
    now: datetime | None = None,
) -> tuple[Run, bool]:
    """Record that the job's work starts now; (run, created). 423 when the gate is closed.

    A retry with the same `idempotency_key` returns the first run, even if the
    gate has closed since: the work it reported did start.
    """
    now = now or timezone.now()
    idempotency_key = (idempotency_key or "").strip()
    if len(idempotency_key) > MAX_KEY:
        # The API takes keys up to 255 characters; the run row keeps a digest
        # of a long one (still one run per key and job).
        idempotency_key = "sha256:" + hashlib.sha256(idempotency_key.encode()).hexdigest()
    job = job_get(job_id=job_id)
    check_may_report(job=job, user=user, token_team_id=token_team_id)
    if idempotency_key and (
        first := Run.objects.filter(job=job, idempotency_key=idempotency_key).first()
    ):
        return first, False
    answer = gate.gate(job=gate.job_snapshot(job_id=job.pk), at=now)
    if not answer.allowed:
        raise GateClosed(
            f"Job #{job.pk} may not run now: {answer.reasons[0].message}",
            details={"reasons": [reason.as_dict() for reason in answer.reasons]},
        )
    window_start, window_end = answer.window
    run = Run(
        job=job,
        window_start=window_start,
        window_end=window_end,
        started_at=now,
        last_heartbeat_at=now,
        idempotency_key=idempotency_key,
        started_by=user if user and user.is_authenticated else None,
    )
    run.next_check_at = _next_check(run, now)
    try:
        with transaction.atomic():
            run.save()
    except IntegrityError:
        # Two retries raced with the same key: the other one recorded the run.
        first = Run.objects.filter(job=job, idempotency_key=idempotency_key).first()
        if first is None:
            raise
        return first, False
    return run, True


@transaction.atomic
def run_heartbeat(*, job_id: int, run_id: int, now: datetime | None = None) -> HeartbeatAnswer:
    """The run is alive; answer whether it should stop (and why)."""
    now = now or timezone.now()
    run = run_get(job_id=job_id, run_id=run_id, lock=True)
    if run.status in FINISHED:
        return HeartbeatAnswer(run, True, f"Run #{run.pk} has already finished ({run.status}).")
    run.last_heartbeat_at = max(run.last_heartbeat_at, now)
    if run.status == RunStatus.LOST:
        # Silence was not death after all: watch it again.
        run.status = RunStatus.RUNNING
    # Never later than the watcher already planned: frequent heartbeats must
    # not keep pushing an overrun's next look (notice, traffic) away.
    run.next_check_at = min(
        moment for moment in (run.next_check_at, _next_check(run, now)) if moment is not None
    )
    run.save(update_fields=["last_heartbeat_at", "status", "next_check_at"])
    job = run.job
    if run.stop_requested_at is None and job.status != JobStatus.APPROVED:
        # Cancelled, or taken out of approval by a refusal since the run began:
        # its gate is closed, and the work it let through must hear it too.
        _ask_to_stop(
            run,
            reason=f"Job #{job.pk} is {job.get_status_display().lower()} now.",
            by="Clearway",
            now=now,
        )
    return HeartbeatAnswer(run, run.stop_requested_at is not None, run.stop_reason)


@transaction.atomic
def run_finish(
    *, job_id: int, run_id: int, outcome: str, note: str = "", now: datetime | None = None
) -> Run:
    """Record how the run ended. Repeating the same outcome changes nothing."""
    now = now or timezone.now()
    if outcome not in FINISHED:
        raise InvalidInput.for_field(
            "outcome", f"Outcome must be one of {', '.join(str(o) for o in FINISHED)}."
        )
    run = run_get(job_id=job_id, run_id=run_id, lock=True)
    if run.status in FINISHED:
        if run.status != outcome:
            raise Conflict(f"Run #{run.pk} already finished as {run.status}.")
        return run
    run.status = outcome
    run.finished_at = now
    run.note = note
    run.next_check_at = None
    run.save(update_fields=["status", "finished_at", "note", "next_check_at"])
    if run.overrun_at is not None:
        job = run.job
        notify(
            key=f"run:{run.pk}:finished",
            event="run_finished",
            teams=_watchers(job),
            subject=f"[Clearway] Overrunning run #{run.pk} of job #{job.pk} finished ({outcome})",
            text=(
                f"Run #{run.pk} of job #{job.pk} '{job.title}' finished {outcome} at "
                f"{now:%Y-%m-%d %H:%M} UTC, {_human(now - run.window_end)} after its window "
                f"ended. {job_link(job)}"
            ),
            data={**job_data(job), "run": run_data(run)},
            job=job,
            now=now,
        )
    return run


def may_ask_to_stop(*, job: MaintenanceJob, user, token_team_id: int | None = None) -> bool:
    """The job's team, the owners of the systems it impacts, and administrators."""
    watchers = {team.pk for team in _watchers(job)}
    if token_team_id is not None:
        return token_team_id in watchers
    if user is None or not user.is_authenticated:
        return False
    return user.is_staff or user.teams.filter(pk__in=watchers).exists()


@transaction.atomic
def run_stop_request(
    *,
    job_id: int,
    run_id: int,
    reason: str,
    user,
    token_team_id: int | None = None,
    now: datetime | None = None,
) -> Run:
    """Ask a running run to stop; its next heartbeat answers stop. Nothing is killed."""
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput.for_field("reason", "Say why the run should stop.")
    if len(reason) > MAX_REASON:
        raise InvalidInput.for_field("reason", f"Use at most {MAX_REASON} characters.")
    run = run_get(job_id=job_id, run_id=run_id, lock=True)
    job = run.job
    if not may_ask_to_stop(job=job, user=user, token_team_id=token_team_id):
        raise NotAllowed(
            f"Only {job.team.slug}, the owners of the systems job #{job.pk} impacts and "
            "administrators can ask its runs to stop."
        )
    if run.status in FINISHED:
        raise Conflict(f"Run #{run.pk} has already finished ({run.status}).")
    if run.stop_requested_at is not None:
        return run
    who = user.get_username() if user and user.is_authenticated else "a pipeline token"
    _ask_to_stop(run, reason=reason, by=who, now=now)
    return run


def _ask_to_stop(run: Run, *, reason: str, by: str, now: datetime) -> None:
    run.stop_requested_at = now
    run.stop_reason = reason
    run.stop_requested_by = by
    run.save(update_fields=["stop_requested_at", "stop_reason", "stop_requested_by"])
    job = run.job
    notify(
        key=f"run:{run.pk}:stop",
        event="run_stop_requested",
        teams=_watchers(job),
        subject=f"[Clearway] Run #{run.pk} of job #{job.pk} was asked to stop",
        text=(
            f"{by} asked run #{run.pk} of job #{job.pk} '{job.title}' to stop: {reason}\n"
            "Its next heartbeat answers stop; Clearway kills nothing. "
            f"{job_link(job)}"
        ),
        data={**job_data(job), "run": run_data(run)},
        job=job,
        now=now,
    )


def runs_watch_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """Every minute: claim due runs one at a time; return how many were processed."""
    now = now or timezone.now()
    done = 0
    for _ in range(limit):
        if not run_watch_one(now=now):
            break
        done += 1
    return done


@transaction.atomic
def run_watch_one(*, now: datetime) -> bool:
    """Process the most overdue running run; False when none is due."""
    run = (
        Run.objects.select_for_update(skip_locked=True)
        .select_related("job", "job__team")
        .filter(status=RunStatus.RUNNING, next_check_at__lte=now)
        .order_by("next_check_at", "pk")
        .first()
    )
    if run is None:
        return False
    if now >= run.last_heartbeat_at + settings.CLEARWAY_RUN_LOST_AFTER:
        _mark_lost(run, now=now)
    elif now >= run.window_end:
        _overrun(run, now=now)
    run.next_check_at = None if run.status != RunStatus.RUNNING else _next_check(run, now)
    run.save(update_fields=["next_check_at"])
    return True


def _mark_lost(run: Run, *, now: datetime) -> None:
    run.status = RunStatus.LOST
    run.save(update_fields=["status"])
    job = run.job
    notify(
        key=f"run:{run.pk}:lost:{run.last_heartbeat_at.isoformat()}",
        event="run_lost",
        teams=_watchers(job),
        subject=f"[Clearway] Run #{run.pk} of job #{job.pk} stopped sending heartbeats",
        text=(
            f"Run #{run.pk} of job #{job.pk} '{job.title}' has sent no heartbeat since "
            f"{run.last_heartbeat_at:%Y-%m-%d %H:%M} UTC; Clearway marks it lost. It may still "
            f"be running: check the pipeline and the database. {job_link(job)}"
        ),
        data={**job_data(job), "run": run_data(run)},
        job=job,
        now=now,
    )


def _overrun(run: Run, *, now: datetime) -> None:
    """Tell everyone concerned at once, again every CLEARWAY_OVERRUN_REPEAT while it
    lasts, and at once when it reaches traffic that refuses the job (then ask it to stop)."""
    job = run.job
    run.overrun_at = run.overrun_at or now
    systems = frozenset(job.systems.values_list("slug", flat=True))
    peaks = traffic.refusing_traffic(
        systems=systems, impact=job.impact, start=now, end=now + TRAFFIC_LOOK_AHEAD
    )
    reached = next((p for p in peaks if p.start <= now < p.end), None)
    run.refusing_traffic_at = next((p.start for p in peaks if p.start > now), None)
    stop_now = reached is not None and run.stop_requested_at is None
    due = (
        run.overrun_notified_at is None
        or now >= run.overrun_notified_at + settings.CLEARWAY_OVERRUN_REPEAT
    )
    if due or stop_now:
        run.overrun_notices += 1
        run.overrun_notified_at = now
    run.save(
        update_fields=[
            "overrun_at",
            "overrun_notices",
            "overrun_notified_at",
            "refusing_traffic_at",
        ]
    )
    if stop_now:
        _ask_to_stop(
            run,
            reason=(
                f"The overrun reached refusing traffic: {reached.students:,} students are "
                f"expected until {reached.end:%Y-%m-%d %H:%M} UTC."
            ),
            by=CLEARWAY,
            now=now,
        )
    if due or stop_now:
        _overrun_notice(run, peaks=peaks, reached=reached, now=now)


def _overrun_notice(run: Run, *, peaks, reached, now: datetime) -> None:
    job = run.job
    lines = [
        f"Run #{run.pk} of job #{job.pk} '{job.title}' is still running "
        f"{_human(now - run.window_end)} after its window ended at "
        f"{run.window_end:%Y-%m-%d %H:%M} UTC (last heartbeat "
        f"{run.last_heartbeat_at:%H:%M} UTC)."
    ]
    if reached:
        lines.append(
            f"It has reached refusing traffic: {reached.students:,} students are expected "
            f"now until {reached.end:%Y-%m-%d %H:%M} UTC. {reached.message}"
        )
    elif peaks:
        lines.append(
            f"{peaks[0].students:,} students are expected from "
            f"{peaks[0].start:%Y-%m-%d %H:%M} UTC: it must be done by then."
        )
    if run.stop_requested_at:
        lines.append(
            f"It was asked to stop at {run.stop_requested_at:%H:%M} UTC by "
            f"{run.stop_requested_by}: {run.stop_reason}"
        )
    lines.append(job_link(job))
    notify(
        key=f"run:{run.pk}:overrun:{run.overrun_notices}",
        event="run_overrun",
        teams=_watchers(job),
        subject=f"[Clearway] Job #{job.pk} is overrunning its window",
        text="\n".join(lines),
        data={
            **job_data(job),
            "run": run_data(run),
            "traffic": [p.as_dict() for p in peaks],
        },
        job=job,
        now=now,
    )


def run_data(run: Run) -> dict:
    return {
        "id": run.pk,
        "job": run.job_id,
        "status": run.status,
        "window": {"start": run.window_start.isoformat(), "end": run.window_end.isoformat()},
        "started_at": run.started_at.isoformat(),
        "last_heartbeat_at": run.last_heartbeat_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "note": run.note,
        "overrun": run.overrun_at is not None,
        "overrun_at": run.overrun_at.isoformat() if run.overrun_at else None,
        "stop_requested": run.stop_requested_at is not None,
        "stop_requested_at": run.stop_requested_at.isoformat() if run.stop_requested_at else None,
        "stop_reason": run.stop_reason,
        "stop_requested_by": run.stop_requested_by,
    }


def _human(delta: timedelta) -> str:
    minutes = max(int(delta.total_seconds() // 60), 0)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"

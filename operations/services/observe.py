"""What a sample means: observations, attributed to a booked job or alerted as unbooked.

A lock or a long wait inside an approved job's open window on the system is
the job's (recorded on its running run, if any). Outside every approved window
it is an unbooked lock: the system's team and the owners of the systems that
depend on it are told once per lock, with what the calendar says about that
moment and what an operator would look at. Clearway runs none of it.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction

from operations import traffic
from operations.models import DatabaseMonitor, Observation, ObservationKind, Run, RunStatus
from scheduling import change_state
from scheduling.choices import Impact, JobStatus
from scheduling.models import JobOccurrence, MaintenanceJob, System, Team
from scheduling.selectors import impacted_systems
from scheduling.services.notifications import notify

LOOK_AHEAD = timedelta(hours=48)


def _owners(system: System) -> list[Team]:
    """The system's team, then the owners of every system that depends on it."""
    slugs = impacted_systems(systems=[system.slug])
    others = Team.objects.filter(systems__slug__in=slugs).exclude(pk=system.team_id).distinct()
    return [system.team, *others]


def _booked_job(system: System, now: datetime) -> MaintenanceJob | None:
    """The approved job whose window is open on `system` now, if any."""
    occurrence = (
        JobOccurrence.objects.filter(
            start__lte=now,
            end__gt=now,
            job__status=JobStatus.APPROVED,
            job__impacted_systems=system,
        )
        .select_related("job")
        .order_by("start", "job_id")
        .first()
    )
    return occurrence.job if occurrence else None


def calendar_at(system: System, now: datetime) -> str:
    """What the calendar says about `now` on `system`: open or closed, traffic, deadlines."""
    systems = frozenset({system.slug})
    state = change_state.state(systems=[system.slug], at=now, impact=Impact.EXCLUSIVE_LOCK)
    lines = [
        f"The calendar says {system.slug} is "
        f"{'open' if state.open else 'closed'} for exclusive-lock work at "
        f"{now:%Y-%m-%d %H:%M} UTC; no approved job's window is open on it."
    ]
    lines += [f"- {reason.message}" for reason in state.reasons]
    students = traffic.students_at(systems=systems, at=now)
    lines.append(f"Students expected now: {students:,}.")
    for peak in traffic.refusing_traffic(
        systems=systems, impact=Impact.EXCLUSIVE_LOCK, start=now, end=now + LOOK_AHEAD
    )[:3]:
        lines.append(
            f"- {peak.students:,} students expected from {peak.start:%Y-%m-%d %H:%M} to "
            f"{peak.end:%Y-%m-%d %H:%M} UTC."
        )
    return "\n".join(lines)


def _hints(pid: int | None) -> str:
    if pid is None:
        return ""
    # Text for a person to read; nothing here is ever executed.
    return (
        "What an operator would look at and run (Clearway runs none of it):\n"  # noqa: S608
        f"  SELECT pid, usename, application_name, xact_start, state, query "
        f"FROM pg_stat_activity WHERE pid = {pid};\n"
        f"  SELECT pg_cancel_backend({pid});     -- cancel its current statement\n"
        f"  SELECT pg_terminate_backend({pid});  -- end its session (rolls back its transaction)"
    )


def _observe(
    *, monitor: DatabaseMonitor, kind: str, fingerprint: str, now: datetime, **fields
) -> tuple[Observation, bool]:
    observation, created = Observation.objects.get_or_create(
        monitor=monitor,
        fingerprint=fingerprint[:300],
        defaults={
            "system": monitor.system,
            "kind": kind,
            "first_seen_at": now,
            "last_seen_at": now,
            "database": monitor.database,
            **fields,
        },
    )
    if not created:
        observation.last_seen_at = now
        for name in ("waiters", "connections", "max_connections"):
            if name in fields:
                setattr(observation, name, fields[name])
        observation.save(
            update_fields=["last_seen_at", "waiters", "connections", "max_connections"]
        )
    return observation, created


def _attribute(observation: Observation, now: datetime) -> None:
    job = _booked_job(observation.system, now)
    if job is None:
        observation.unbooked = True
    else:
        observation.job = job
        observation.run = (
            Run.objects.filter(job=job, status=RunStatus.RUNNING).order_by("-started_at").first()
        )
    observation.save(update_fields=["unbooked", "job", "run"])


def _alert(observation: Observation, *, subject: str, text: str, now: datetime) -> None:
    system = observation.system
    notify(
        key=f"observation:{observation.pk}",
        event=f"observed_{observation.kind}",
        teams=_owners(system),
        subject=subject,
        text=text,
        data={
            "observation": {
                "id": observation.pk,
                "kind": observation.kind,
                "system": system.slug,
                "database": observation.database,
                "table": observation.table,
                "mode": observation.mode,
                "pid": observation.pid,
                "application_name": observation.application_name,
                "held_since": _iso(observation.held_since),
                "waiters": observation.waiters,
                "connections": observation.connections,
                "max_connections": observation.max_connections,
                "unbooked": observation.unbooked,
                "job": observation.job_id,
            }
        },
        now=now,
    )
    observation.alerted = True
    observation.save(update_fields=["alerted"])


@transaction.atomic
def record_sample(*, monitor: DatabaseMonitor, sample, now: datetime) -> list[Observation]:
    """Turn one sample into observations and alerts; return the new observations."""
    fresh: list[Observation] = []
    held_pids = _observe_locks(monitor, sample, now, fresh)
    _observe_waits(monitor, sample, now, fresh, held_pids=held_pids)
    _saturation(monitor, sample, now, fresh)
    _record_health(monitor, sample, now)
    return fresh


def _observe_locks(monitor: DatabaseMonitor, sample, now: datetime, fresh: list) -> set[int]:
    """Observe (and alert on unbooked) long-held locks; return the pids holding them."""
    system = monitor.system
    held_pids = set()
    for lock in sample.locks:
        held_pids.add(lock.pid)
        held = lock.held_since.isoformat() if lock.held_since else "?"
        observation, created = _observe(
            monitor=monitor,
            kind=ObservationKind.LOCK,
            fingerprint=f"lock:{lock.pid}:{held}:{lock.table}:{lock.mode}",
            now=now,
            table=lock.table,
            mode=lock.mode,
            pid=lock.pid,
            application_name=lock.application_name,
            query_start=lock.query_start,
            held_since=lock.held_since,
            waiters=lock.waiters,
        )
        if not created:
            continue
        fresh.append(observation)
        _attribute(observation, now)
        if observation.unbooked:
            _alert(
                observation,
                subject=f"[Clearway] Unbooked {lock.mode} on {monitor.database}.{lock.table}",
                text=(
                    f"An unbooked {lock.mode} on {lock.table} in {monitor.database} "
                    f"({system.slug}) is held by pid {lock.pid} "
                    f"('{lock.application_name or 'no application name'}') since "
                    f"{_when(lock.held_since)}; {lock.waiters} session(s) wait behind it.\n"
                    f"{calendar_at(system, now)}\n{_hints(lock.pid)}"
                ),
                now=now,
            )
    return held_pids


def _observe_waits(
    monitor: DatabaseMonitor, sample, now: datetime, fresh: list, *, held_pids: set[int]
) -> None:
    system = monitor.system
    for wait in sample.waits:
        # Waits behind a lock seen above are its `waiters`; only the others
        # (row locks, advisory locks, ...) are observations of their own.
        if set(wait.blockers) & held_pids:
            continue
        blocker = wait.blockers[0] if wait.blockers else None
        observation, created = _observe(
            monitor=monitor,
            kind=ObservationKind.WAITING,
            fingerprint=f"waiting:{wait.pid}:{_when(wait.query_start)}",
            now=now,
            pid=blocker,
            application_name=wait.application_name,
            query_start=wait.query_start,
            detail=f"pid {wait.pid} waits behind {', '.join(map(str, wait.blockers)) or '?'}",
        )
        if not created:
            continue
        fresh.append(observation)
        _attribute(observation, now)
        if observation.unbooked:
            _alert(
                observation,
                subject=f"[Clearway] A session waits on a lock in {monitor.database}",
                text=(
                    f"pid {wait.pid} ('{wait.application_name}') in {monitor.database} "
                    f"({system.slug}) has waited on a lock since {_when(wait.query_start)}, "
                    f"blocked by pid(s) {', '.join(map(str, wait.blockers)) or 'unknown'}.\n"
                    f"{calendar_at(system, now)}\n{_hints(blocker)}"
                ),
                now=now,
            )


def _record_health(monitor: DatabaseMonitor, sample, now: datetime) -> None:
    monitor.connections = sample.connections
    monitor.max_connections = sample.max_connections
    monitor.lock_waiters = sample.lock_waiters
    monitor.last_success_at = now
    monitor.last_error = ""
    monitor.failing_since = None
    monitor.save(
        update_fields=[
            "connections",
            "max_connections",
            "lock_waiters",
            "last_success_at",
            "last_error",
            "failing_since",
            "saturated_since",
        ]
    )


def _saturation(monitor: DatabaseMonitor, sample, now: datetime, fresh: list) -> None:
    limit = sample.max_connections * settings.CLEARWAY_WATCH_CONNECTIONS_PERCENT / 100
    if sample.connections < limit:
        monitor.saturated_since = None
        return
    monitor.saturated_since = monitor.saturated_since or now
    observation, created = _observe(
        monitor=monitor,
        kind=ObservationKind.SATURATION,
        fingerprint=f"saturation:{monitor.saturated_since.isoformat()}",
        now=now,
        connections=sample.connections,
        max_connections=sample.max_connections,
        waiters=sample.lock_waiters,
    )
    if not created:
        return
    fresh.append(observation)
    _attribute(observation, now)
    system = monitor.system
    percent = round(100 * sample.connections / sample.max_connections)
    booked = (
        f"Job #{observation.job_id} has an approved window open on {system.slug}."
        if observation.job_id
        else calendar_at(system, now)
    )
    _alert(
        observation,
        subject=f"[Clearway] {monitor.database} uses {percent}% of its connections",
        # Text for a person to read; nothing here is ever executed.
        text=(
            f"{monitor.database} ({system.slug}) has {sample.connections} connections of "  # noqa: S608
            f"max_connections {sample.max_connections} ({percent}%, alert at "
            f"{settings.CLEARWAY_WATCH_CONNECTIONS_PERCENT}%); {sample.lock_waiters} session(s) "
            f"wait on locks.\n{booked}\n"
            "What an operator would look at: SELECT state, wait_event_type, count(*) FROM "
            "pg_stat_activity GROUP BY 1, 2; then the blocking pids "
            "(SELECT pid, pg_blocking_pids(pid) FROM pg_stat_activity WHERE "
            "wait_event_type = 'Lock'), with pg_cancel_backend(pid) or "
            "pg_terminate_backend(pid) as the last resort. Clearway runs none of it."
        ),
        now=now,
    )


@transaction.atomic
def record_failure(*, monitor: DatabaseMonitor, error: str, now: datetime) -> Observation:
    """The database could not be read: one observation and one alert per outage."""
    monitor.last_error = error[:2000]
    monitor.failing_since = monitor.failing_since or now
    monitor.save(update_fields=["last_error", "failing_since"])
    observation, created = _observe(
        monitor=monitor,
        kind=ObservationKind.UNREACHABLE,
        fingerprint=f"unreachable:{monitor.failing_since.isoformat()}",
        now=now,
        detail=error[:2000],
    )
    if created:
        system = monitor.system
        _alert(
            observation,
            subject=f"[Clearway] Cannot watch {monitor.database} ({system.slug})",
            text=(
                f"Clearway could not read {monitor.database} ({system.slug}) at "
                f"{now:%Y-%m-%d %H:%M} UTC: {error}\nUntil it can, unbooked locks and "
                "connection saturation there go unseen. Check the database and the "
                "monitoring role."
            ),
            now=now,
        )
    return observation


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC" if moment else "an unknown time"


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None

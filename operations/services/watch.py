"""Watching monitored PostgreSQL databases: unbooked locks, lock waits, saturation.

`monitors_sample_due` claims each due monitor by moving its `next_sample_at`
past the longest a sample can take, before connecting: a slow or dead database
is sampled at most once per interval and tasks never pile up. One connection
per database, read-only, with a connect and a statement timeout
(services.monitors). What it sees becomes observations (services.observe);
a failure to connect or to read is an observation too.
"""

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from operations.models import DatabaseMonitor
from operations.services import observe
from operations.services.monitors import decrypt, monitoring_connection, statement_timeout_ms
from scheduling.addresses import AddressRefused
from scheduling.errors import DomainError

logger = logging.getLogger(__name__)

# Locks that block writers (INSERT/UPDATE/DELETE take ROW EXCLUSIVE).
WRITER_BLOCKING_MODES = ("AccessExclusiveLock", "ExclusiveLock", "ShareRowExclusiveLock")

LOCKS_SQL = """
SELECT l.pid, l.mode, n.nspname, c.relname, a.application_name, a.query_start,
       coalesce(a.xact_start, a.query_start) AS held_since,
       (SELECT count(*) FROM pg_stat_activity w
         WHERE w.wait_event_type = 'Lock' AND l.pid = ANY(pg_blocking_pids(w.pid))) AS waiters
  FROM pg_locks l
  JOIN pg_class c ON c.oid = l.relation
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_stat_activity a ON a.pid = l.pid
 WHERE l.locktype = 'relation' AND l.granted
   AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
   AND l.mode = ANY(%(modes)s)
   AND c.relkind IN ('r', 'p')
   AND l.pid <> pg_backend_pid()
   AND coalesce(a.xact_start, a.query_start) < clock_timestamp() - make_interval(secs => %(secs)s)
 ORDER BY l.pid, n.nspname, c.relname, l.mode
"""

WAITS_SQL = """
SELECT w.pid, w.application_name, w.query_start, pg_blocking_pids(w.pid) AS blockers
  FROM pg_stat_activity w
 WHERE w.wait_event_type = 'Lock' AND w.datname = current_database()
   AND w.query_start < clock_timestamp() - make_interval(secs => %(secs)s)
 ORDER BY w.pid
"""

CONNECTIONS_SQL = """
SELECT (SELECT count(*) FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid()),
       (SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'
           AND datname = current_database()),
       current_setting('max_connections')::int
"""


@dataclass(frozen=True)
class HeldLock:
    pid: int
    mode: str
    table: str
    application_name: str
    query_start: datetime | None
    held_since: datetime | None
    waiters: int


@dataclass(frozen=True)
class Wait:
    pid: int
    application_name: str
    query_start: datetime | None
    blockers: tuple[int, ...]


@dataclass(frozen=True)
class Sample:
    locks: list[HeldLock]
    waits: list[Wait]
    connections: int
    lock_waiters: int
    max_connections: int


def sample_database(dsn: str) -> Sample:
    """Read the locks, waits and connections of one database over one connection."""
    secs = settings.CLEARWAY_WATCH_LOCK_SECONDS
    with monitoring_connection(dsn) as connection:
        locks = [
            HeldLock(
                pid=row[0],
                mode=row[1],
                table=f"{row[2]}.{row[3]}",
                application_name=row[4] or "",
                query_start=row[5],
                held_since=row[6],
                waiters=row[7],
            )
            for row in connection.execute(
                LOCKS_SQL, {"modes": list(WRITER_BLOCKING_MODES), "secs": secs}
            )
        ]
        waits = [
            Wait(
                pid=row[0],
                application_name=row[1] or "",
                query_start=row[2],
                blockers=tuple(row[3]),
            )
            for row in connection.execute(WAITS_SQL, {"secs": secs})
        ]
        connections, lock_waiters, max_connections = connection.execute(CONNECTIONS_SQL).fetchone()
    return Sample(locks, waits, connections, lock_waiters, max_connections)


def _lease() -> timedelta:
    """The longest one sample can take: connect, three statements, and some slack."""
    longest = settings.CLEARWAY_WATCH_CONNECT_TIMEOUT + 3 * statement_timeout_ms() / 1000 + 1
    return timedelta(seconds=max(settings.CLEARWAY_WATCH_INTERVAL, longest))


def _claim(monitor_id: int, now: datetime) -> bool:
    """Take this round's sample of the monitor, unless another worker already has."""
    return (
        DatabaseMonitor.objects.filter(pk=monitor_id, enabled=True)
        .filter(Q(next_sample_at__isnull=True) | Q(next_sample_at__lte=now))
        .update(next_sample_at=now + _lease(), last_sampled_at=now)
        == 1
    )


def monitor_sample(*, monitor_id: int, now: datetime | None = None) -> bool:
    """Claim and sample one monitor; False when it was not due (or taken)."""
    now = now or timezone.now()
    if not _claim(monitor_id, now):
        return False
    monitor = DatabaseMonitor.objects.select_related("system", "system__team").get(pk=monitor_id)
    try:
        sample = sample_database(decrypt(monitor.dsn_encrypted))
    except (psycopg.Error, DomainError, OSError, AddressRefused) as exc:
        # A refused address (re-checked before every connection) is observed like
        # any failure to connect: DNS may have changed since the DSN was saved.
        message = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        logger.warning("monitor of %s failed: %s", monitor.system.slug, message)
        observe.record_failure(monitor=monitor, error=message, now=now)
        return True
    observe.record_sample(monitor=monitor, sample=sample, now=now)
    return True


def monitors_sample_due(*, now: datetime | None = None) -> int:
    """Sample every monitor that is due; return how many were sampled."""
    due = DatabaseMonitor.objects.filter(enabled=True).filter(
        Q(next_sample_at__isnull=True) | Q(next_sample_at__lte=now or timezone.now())
    )
    # Each claim reads the clock again (unless the caller fixed it): after
    # slow databases earlier in the round, a lease counted from the round's
    # start would already be over, and another worker would open a second
    # connection to a database still being sampled.
    return sum(
        monitor_sample(monitor_id=pk, now=now)
        for pk in list(due.order_by("next_sample_at").values_list("pk", flat=True))
    )


def monitors_sample_rounds(*, budget: float = 55.0) -> int:
    """The minutely task: rounds every CLEARWAY_WATCH_INTERVAL seconds within a minute.

    django-q2 schedules at most once a minute; a 30-second interval is two
    rounds of one task. The claim keeps rounds of overlapping tasks apart.
    """
    # With nothing to watch, hold no worker for the rest of the minute.
    if not DatabaseMonitor.objects.filter(enabled=True).exists():
        return 0
    started = time.monotonic()
    sampled = 0
    while True:
        sampled += monitors_sample_due()
        wait = settings.CLEARWAY_WATCH_INTERVAL
        if time.monotonic() - started + wait > budget:
            return sampled
        time.sleep(wait)

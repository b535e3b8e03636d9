"""A system's monitoring connection: a PostgreSQL DSN, tested on save, stored encrypted.

The DSN holds a password, so it is encrypted with Fernet (AES-128-CBC + HMAC)
under a key derived from CLEARWAY_MONITOR_KEY (SECRET_KEY unless set) and never
shown again: answers name the database only. Every connection Clearway opens
with it is read-only, bounded by a connect and a statement timeout, and closed
after use (one connection per database at a time).
"""

import base64
import os
import socket
import threading
from contextlib import contextmanager, suppress
from datetime import datetime

import psycopg
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from psycopg.conninfo import conninfo_to_dict

from operations.models import DatabaseMonitor
from operations.services.addresses import pinned
from scheduling.addresses import AddressRefused
from scheduling.errors import InvalidInput, NotFound
from scheduling.models import System

APPLICATION_NAME = "clearway-monitor"


def _fernet() -> Fernet:
    key = HKDF(
        algorithm=SHA256(), length=32, salt=b"clearway monitoring dsn", info=b"fernet"
    ).derive(settings.CLEARWAY_MONITOR_KEY.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt(dsn: str) -> str:
    return _fernet().encrypt(dsn.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        # The key changed since the DSN was saved: an error to show, not a crash.
        raise InvalidInput(
            "The monitoring connection cannot be read with the current "
            "CLEARWAY_MONITOR_KEY; save the DSN again."
        ) from None


def statement_timeout_ms() -> int:
    """Half the sampling interval, at most 5 s: a slow database cannot delay the next round."""
    return min(5000, settings.CLEARWAY_WATCH_INTERVAL * 500)


@contextmanager
def monitoring_connection(dsn: str, *, connect_timeout: int | None = None):
    """One read-only, time-bounded connection to a monitored database, closed after use.

    Raises AddressRefused, before connecting, when the DSN's host is not at an
    allowed address (operations.services.addresses); otherwise connects to the
    address that was checked.
    """
    try:
        params = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        raise AddressRefused("This is not a PostgreSQL connection string.") from None
    connection = psycopg.connect(
        dsn,
        **pinned(params),
        autocommit=True,
        connect_timeout=connect_timeout or settings.CLEARWAY_WATCH_CONNECT_TIMEOUT,
        application_name=APPLICATION_NAME,
        options=(
            f"-c statement_timeout={statement_timeout_ms()} "
            "-c default_transaction_read_only=on -c lock_timeout=1000"
        ),
    )
    watchdog = _Watchdog(connection, seconds=answer_budget_seconds())
    try:
        yield connection
    except psycopg.OperationalError as exc:
        if watchdog.fired:
            raise psycopg.OperationalError(
                f"no answer within {watchdog.seconds:g} s: the server may be stopped or wedged"
            ) from exc
        raise
    finally:
        watchdog.stop()
        connection.close()


def answer_budget_seconds() -> float:
    """The longest a connection's statements may take together (three of them, and slack)."""
    return 3 * statement_timeout_ms() / 1000 + 1


class _Watchdog:
    """Shuts the connection's socket when its statements overrun their budget.

    A stopped or wedged server enforces no statement_timeout, and psycopg
    waits for an answer without a limit: without this the sample, and the
    worker running it, would wait forever. Shutting the socket (not closing
    its descriptor) makes the waiting read fail at once.
    """

    def __init__(self, connection, *, seconds: float):
        self.connection = connection
        self.seconds = seconds
        self.fired = False
        self._done = False
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.fired = True
            with (
                suppress(OSError, psycopg.Error),
                socket.socket(fileno=os.dup(self.connection.pgconn.socket)) as sock,
            ):
                sock.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        self._timer.cancel()
        with self._lock:
            self._done = True


def _database_name(dsn: str) -> str:
    try:
        params = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        raise InvalidInput.for_field(
            "dsn",
            "This is not a PostgreSQL connection string; use "
            "postgresql://monitor:PASSWORD@db.example.org:5432/grading.",
        ) from None
    if not params.get("dbname"):
        raise InvalidInput.for_field("dsn", "Name the database to watch in the DSN.")
    return params["dbname"]


def check_dsn(dsn: str) -> str:
    """Connect once and read pg_stat_activity; the database's name, or a clear error."""
    database = _database_name(dsn)
    try:
        with monitoring_connection(dsn) as connection:
            # Without pg_read_all_stats (granted by pg_monitor) other roles'
            # sessions show no start times, and their locks would go unseen.
            (sees_all,) = connection.execute(
                "SELECT pg_has_role('pg_read_all_stats', 'MEMBER')"
            ).fetchone()
    except AddressRefused as exc:
        raise InvalidInput.for_field("dsn", str(exc)) from None
    except psycopg.Error as exc:
        # psycopg's message names the host and the user, never the password.
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise InvalidInput.for_field(
            "dsn", f"Clearway could not read {database} with this DSN: {first_line}"
        ) from None
    if not sees_all:
        raise InvalidInput.for_field(
            "dsn",
            f"This role cannot see other sessions in {database}, so their locks would go "
            "unseen: grant it pg_monitor (GRANT pg_monitor TO <role>).",
        )
    return database


def database_monitor_save(
    *, system: str, dsn: str, enabled: bool = True, now: datetime | None = None
) -> DatabaseMonitor:
    """Test the DSN, then store it encrypted on the system's monitor (created if needed)."""
    now = now or timezone.now()
    dsn = (dsn or "").strip()
    if not dsn:
        raise InvalidInput.for_field("dsn", "Give the monitoring role's DSN.")
    target = System.objects.filter(slug=system).first()
    if target is None:
        raise NotFound(f"There is no system {system!r}.")
    # Outside the transaction: a slow database must not hold Clearway's rows.
    database = check_dsn(dsn)
    with transaction.atomic():
        monitor, _ = DatabaseMonitor.objects.update_or_create(
            system=target,
            defaults={
                "dsn_encrypted": encrypt(dsn),
                "database": database,
                "enabled": enabled,
                "next_sample_at": now,
                "last_error": "",
                "failing_since": None,
            },
        )
    return monitor


@transaction.atomic
def database_monitor_delete(*, system: str) -> None:
    deleted, _ = DatabaseMonitor.objects.filter(system__slug=system).delete()
    if not deleted:
        raise NotFound(f"System {system!r} has no monitoring connection.")

"""A real PostgreSQL database for the monitor to watch, made and dropped by each test.

The tests need the local PostgreSQL server (127.0.0.1:5432 unless
CLEARWAY_TEST_PG_ADMIN_DSN says otherwise), whatever database Clearway itself
runs on. Where it is unreachable they skip with the reason; under CI (the `CI`
variable set) they fail instead, since PostgreSQL is always up there.
"""

import os
import threading
import uuid
from contextlib import contextmanager, suppress

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

ADMIN_DSN = os.environ.get(
    "CLEARWAY_TEST_PG_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def admin_connection() -> psycopg.Connection:
    try:
        return psycopg.connect(ADMIN_DSN, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        reason = f"PostgreSQL at {ADMIN_DSN} is unreachable ({str(exc).strip()[:120]})"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must run the monitoring tests against it.")
        pytest.skip(reason)


def dsn_of(name: str) -> str:
    return make_conninfo(ADMIN_DSN, dbname=name)


@contextmanager
def monitored_database():
    """A fresh database with a `grades` table; yields its DSN, drops it afterwards."""
    name = f"clearway_monitored_{uuid.uuid4().hex[:12]}"
    with admin_connection() as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    dsn = dsn_of(name)
    try:
        with psycopg.connect(dsn, autocommit=True) as setup:
            setup.execute("CREATE TABLE grades (id serial PRIMARY KEY, grade int)")
        yield dsn
    finally:
        with admin_connection() as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def drop(dsn: str) -> None:
    """The monitored database goes away (its sessions are ended first)."""
    name = conninfo_to_dict(dsn)["dbname"]
    with admin_connection() as admin:
        admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


@contextmanager
def holding_access_exclusive(dsn: str, *, application_name: str = "nightly-reindex"):
    """Another session holds ACCESS EXCLUSIVE on grades until the block ends."""
    holder = psycopg.connect(dsn, application_name=application_name)
    try:
        holder.execute("LOCK TABLE grades IN ACCESS EXCLUSIVE MODE")
        yield holder.info.backend_pid
    finally:
        holder.rollback()
        holder.close()


@contextmanager
def waiting_writer(dsn: str):
    """A session trying to INSERT into grades, waiting behind whatever holds it."""
    writer = psycopg.connect(dsn, autocommit=True, application_name="grade-writer")
    writer.execute("SET lock_timeout = '30s'")
    started = threading.Event()

    def write():
        started.set()
        with suppress(psycopg.Error):
            writer.execute("INSERT INTO grades (grade) VALUES (90)")

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    started.wait()
    try:
        yield writer.info.backend_pid
    finally:
        writer.cancel_safe()  # stop waiting now rather than at the lock timeout
        thread.join(timeout=35)
        writer.close()


def wait_until_waiting(dsn: str, pid: int, timeout: float = 10.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    with psycopg.connect(dsn, autocommit=True) as probe:
        while time.monotonic() < deadline:
            row = probe.execute(
                "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid,)
            ).fetchone()
            if row and row[0] == "Lock":
                return
            time.sleep(0.05)
    raise AssertionError(f"pid {pid} never waited on a lock")


@contextmanager
def open_connections(dsn: str, count: int):
    connections = [psycopg.connect(dsn, autocommit=True) for _ in range(count)]
    try:
        yield connections
    finally:
        for connection in connections:
            connection.close()

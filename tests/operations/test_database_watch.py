"""The database watch against the real local PostgreSQL: locks, waits, saturation, outages.

Each test makes its own database (tests.operations.monitored) and watches it as
grading-db's. infra owns grading-db; grading owns the systems depending on it,
so both hear of an unbooked lock. The job (approved) books grading-db for
2030-12-10 08:00-12:00 UTC; the clock starts at 2030-12-01 09:00.
"""

import socket
import time

import pytest

from operations.models import DatabaseMonitor, Observation, ObservationKind
from operations.services.monitors import database_monitor_save
from operations.services.runs import run_start
from operations.services.watch import monitors_sample_due
from scheduling.models import Delivery
from tests.builders import at
from tests.operations import monitored
from tests.workflow import approved_job

pytestmark = pytest.mark.django_db


@pytest.fixture
def database(settings):
    settings.CLEARWAY_WATCH_LOCK_SECONDS = 0
    settings.CLEARWAY_WATCH_CONNECT_TIMEOUT = 2
    with monitored.monitored_database() as dsn:
        yield dsn


@pytest.fixture
def monitor(org, database):
    return database_monitor_save(system="grading-db", dsn=database)


def alerts(kind: str) -> list[Delivery]:
    return list(Delivery.objects.filter(event=f"observed_{kind}"))


def sample(clock, moment=None) -> int:
    if moment:
        clock.move_to(moment)
    DatabaseMonitor.objects.update(next_sample_at=None)
    return monitors_sample_due()


def test_an_unbooked_access_exclusive_lock_is_one_observation_and_one_alert(monitor, clock):
    with monitored.holding_access_exclusive(monitor_dsn(monitor)) as pid:
        sample(clock)
        sample(clock, at(1, 9, 1))

    observation = Observation.objects.get()
    assert observation.kind == ObservationKind.LOCK
    assert observation.unbooked is True
    assert (observation.pid, observation.table, observation.mode) == (
        pid,
        "public.grades",
        "AccessExclusiveLock",
    )
    assert observation.application_name == "nightly-reindex"
    assert observation.last_seen_at == at(1, 9, 1)
    assert {d.channel for d in alerts("lock")} == {
        "email:infra@example.org",
        "email:grading@example.org",
    }


def test_the_unbooked_lock_alert_gives_the_pid_the_operator_hints_and_the_calendar(monitor, clock):
    with monitored.holding_access_exclusive(monitor_dsn(monitor)) as pid:
        sample(clock)

    text = alerts("lock")[0].text
    assert f"pid {pid}" in text
    assert f"pg_cancel_backend({pid})" in text
    assert f"pg_terminate_backend({pid})" in text
    assert "Clearway runs none of it" in text
    assert "Students expected now: 0." in text


def test_a_lock_inside_an_approved_window_is_attributed_to_the_job_and_its_run(
    monitor, requester, reviewer, clock
):
    job = approved_job(requester=requester, reviewer=reviewer)
    clock.move_to(at(10, 9))
    run, _ = run_start(job_id=job.pk, user=requester)

    with monitored.holding_access_exclusive(monitor_dsn(monitor)):
        sample(clock)

    observation = Observation.objects.get()
    assert (observation.job_id, observation.run_id, observation.unbooked) == (job.pk, run.pk, False)
    assert alerts("lock") == []


def test_the_same_lock_after_the_window_is_still_the_jobs(monitor, requester, reviewer, clock):
    job = approved_job(requester=requester, reviewer=reviewer)
    with monitored.holding_access_exclusive(monitor_dsn(monitor)):
        sample(clock, at(10, 11, 59))
        sample(clock, at(10, 12, 5))

    assert Observation.objects.get().job_id == job.pk


def test_a_writer_waiting_behind_the_lock_is_counted(monitor, clock):
    dsn = monitor_dsn(monitor)
    with monitored.holding_access_exclusive(dsn), monitored.waiting_writer(dsn) as writer:
        monitored.wait_until_waiting(dsn, writer)
        sample(clock)
        observation = Observation.objects.get(kind=ObservationKind.LOCK)
        monitor.refresh_from_db()

    assert observation.waiters == 1
    assert monitor.lock_waiters == 1
    assert not Observation.objects.filter(kind=ObservationKind.WAITING).exists()


def test_a_lock_held_less_than_the_threshold_is_not_an_observation(monitor, clock, settings):
    settings.CLEARWAY_WATCH_LOCK_SECONDS = 3600

    with monitored.holding_access_exclusive(monitor_dsn(monitor)):
        sample(clock)

    assert not Observation.objects.exists()


def test_connections_past_the_threshold_are_one_observation_and_one_alert(monitor, clock, settings):
    # max_connections is 100 on the test server: 3 % is 3 connections.
    settings.CLEARWAY_WATCH_CONNECTIONS_PERCENT = 3
    with monitored.open_connections(monitor_dsn(monitor), 4):
        sample(clock)
        sample(clock, at(1, 9, 1))

    observation = Observation.objects.get(kind=ObservationKind.SATURATION)
    assert observation.connections >= 4
    assert observation.max_connections >= 4
    assert len(alerts("saturation")) == 2  # one alert, to infra and to grading
    assert "max_connections" in alerts("saturation")[0].text


def test_connections_below_the_threshold_are_no_observation(monitor, clock):
    with monitored.open_connections(monitor_dsn(monitor), 2):
        sample(clock)

    assert not Observation.objects.filter(kind=ObservationKind.SATURATION).exists()


def test_the_monitored_database_going_away_is_an_observation_and_one_alert(monitor, clock):
    monitored.drop(monitor_dsn(monitor))

    sample(clock)
    sample(clock, at(1, 9, 1))

    observation = Observation.objects.get()
    assert observation.kind == ObservationKind.UNREACHABLE
    assert "does not exist" in observation.detail
    assert len(alerts("unreachable")) == 2  # once, to infra and to grading
    monitor.refresh_from_db()
    assert monitor.failing_since == at(1, 9)


def test_a_database_that_never_answers_is_reported_within_the_connect_timeout(
    org, clock, settings, database
):
    monitor = database_monitor_save(system="grading-db", dsn=database)
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)  # accepts TCP, never speaks PostgreSQL
    port = silent.getsockname()[1]
    DatabaseMonitor.objects.filter(pk=monitor.pk).update(
        dsn_encrypted=_encrypt(f"postgresql://postgres@127.0.0.1:{port}/nothing")
    )
    began = time.monotonic()
    try:
        sample(clock)
    finally:
        silent.close()

    assert time.monotonic() - began < 10
    assert Observation.objects.get().kind == ObservationKind.UNREACHABLE


def test_a_due_monitor_is_sampled_once_however_many_tasks_ask(monitor, clock):
    DatabaseMonitor.objects.update(next_sample_at=None)

    first = monitors_sample_due()
    second = monitors_sample_due()

    assert (first, second) == (1, 0)


def monitor_dsn(monitor) -> str:
    from operations.services.monitors import decrypt

    return decrypt(monitor.dsn_encrypted)


def _encrypt(dsn: str) -> str:
    from operations.services.monitors import encrypt

    return encrypt(dsn)


def test_metrics_carry_the_monitored_databases_connections(monitor, clock, settings):
    from django.test import Client
    from prometheus_client.parser import text_string_to_metric_families

    settings.CLEARWAY_METRICS_TOKEN = "t"
    with monitored.open_connections(monitor_dsn(monitor), 2):
        sample(clock)

    text = Client(HTTP_AUTHORIZATION="Bearer t").get("/metrics").content.decode()
    values = {
        s.name: s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.labels.get("system") == "grading-db"
    }
    assert values["clearway_database_connections"] >= 2
    assert values["clearway_database_up"] == 1


def test_a_pg_monitor_role_that_is_no_superuser_sees_another_roles_lock(org, database, clock):
    import uuid

    from psycopg import sql
    from psycopg.conninfo import make_conninfo

    role = f"clearway_monitor_{uuid.uuid4().hex[:8]}"
    with monitored.admin_connection() as pg:
        pg.execute(sql.SQL("CREATE ROLE {} LOGIN IN ROLE pg_monitor").format(sql.Identifier(role)))
    try:
        database_monitor_save(system="grading-db", dsn=make_conninfo(database, user=role))
        with monitored.holding_access_exclusive(database) as pid:
            sample(clock)
    finally:
        with monitored.admin_connection() as pg:
            pg.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))

    observation = Observation.objects.get()
    assert (observation.pid, observation.unbooked) == (pid, True)


def test_the_minutely_task_samples_once_when_the_interval_is_a_minute(monitor, settings):
    from operations.tasks import watch_databases

    settings.CLEARWAY_WATCH_INTERVAL = 60
    DatabaseMonitor.objects.update(next_sample_at=None)

    assert watch_databases() == 1


def test_the_minutely_watch_task_returns_at_once_when_no_database_is_watched(db, monkeypatch):
    from operations.services import watch

    slept = []
    monkeypatch.setattr(watch.time, "sleep", slept.append)

    assert watch.monitors_sample_rounds() == 0
    assert slept == []

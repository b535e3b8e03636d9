"""The gate's lock bound with the per-process caches off (PostgreSQL).

Read as one prepared statement, the gate sends its bound (set_config, local
to the round trip) with it instead of setting lock_timeout and putting it
back around the request; other reads in a bounded block still get it.
"""

import time

import psycopg
import pytest
from django.db import DataError, OperationalError, connection
from django.test.utils import CaptureQueriesContext

from scheduling.db import lock_wait_at_most, read_prepared
from scheduling.models import MaintenanceJob
from tests import builders
from tests.builders import at
from tests.ci.clients import bearer, token_for
from tests.reliability.conftest import postgres_only, shared_database_url
from tests.workflow import approved_job

pytestmark = [postgres_only, pytest.mark.django_db(transaction=True)]


def lock_timeout() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW lock_timeout")
        return cursor.fetchone()[0]


@pytest.fixture
def patient_session():
    """Without a bound, this session would wait 10 s for a lock."""
    with connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = '10s'")
    yield
    with connection.cursor() as cursor:
        cursor.execute("RESET lock_timeout")


def test_with_the_caches_off_a_locked_jobs_table_closes_the_gate_within_its_bound(
    org, requester, reviewer, settings, patient_session
):
    settings.CLEARWAY_PROCESS_CACHES = False
    job = approved_job(requester=requester, reviewer=reviewer, start=at(10, 8))
    ci = bearer(token_for(org["infra"]))
    url = f"/api/v1/jobs/{job.pk}/gate?at=2030-12-10T09:00:00Z"
    assert ci.get(url).status_code == 200  # the token is read and trusted from now on

    with psycopg.connect(shared_database_url(), autocommit=False) as other:
        other.execute("LOCK TABLE scheduling_maintenancejob IN ACCESS EXCLUSIVE MODE")
        started = time.monotonic()
        closed = ci.get(url)
        took = time.monotonic() - started
        other.rollback()

    assert closed.status_code == 503
    assert closed.json()["allowed"] is False
    assert took < 2, f"the gate waited {took:.2f} s for the lock"
    assert lock_timeout() == "10s"


def test_a_read_that_carries_the_bound_sends_no_set_and_no_reset(patient_session, requester):
    job = builders.job(by=requester, systems=["grading-db"], start=at(10, 8))

    with CaptureQueriesContext(connection) as captured, lock_wait_at_most(milliseconds=200):
        row = read_prepared(
            "SELECT current_setting('lock_timeout'), count(*) "
            "FROM scheduling_maintenancejob WHERE id = %s",
            [job.pk],
        )

    assert row == ("200ms", 1)
    assert len(captured) == 1  # the bound and the read, in one message
    assert lock_timeout() == "10s"


def test_an_orm_read_in_a_bounded_block_waits_at_most_the_bound_and_it_is_put_back(
    patient_session, requester
):
    builders.job(by=requester, systems=["grading-db"], start=at(10, 8))

    with lock_wait_at_most(milliseconds=200):
        assert MaintenanceJob.objects.count() == 1
        assert lock_timeout() == "200ms"

    assert lock_timeout() == "10s"


def test_a_bounded_block_without_reads_touches_no_setting(patient_session):
    with CaptureQueriesContext(connection) as captured, lock_wait_at_most(milliseconds=200):
        pass

    assert len(captured) == 0


def bounded_count(job_id: int) -> tuple:
    with lock_wait_at_most(milliseconds=200):
        return read_prepared(
            "SELECT current_setting('lock_timeout'), count(*) "
            "FROM scheduling_maintenancejob WHERE id = %s",
            [job_id],
        )


def test_a_bounded_read_is_prepared_once_per_connection(patient_session, requester):
    job = builders.job(by=requester, systems=["grading-db"], start=at(10, 8))

    with CaptureQueriesContext(connection) as captured:
        first, again = bounded_count(job.pk), bounded_count(job.pk)

    assert first == again == ("200ms", 1)
    assert "PREPARE" in captured[0]["sql"]
    assert "PREPARE" not in captured[1]["sql"]
    assert "EXECUTE" in captured[1]["sql"]


def test_a_bounded_read_whose_statement_was_deallocated_prepares_it_again(
    patient_session, requester
):
    job = builders.job(by=requester, systems=["grading-db"], start=at(10, 8))
    bounded_count(job.pk)
    with connection.cursor() as cursor:
        # What psycopg sends after any rollback on a connection that prepared.
        cursor.execute("DEALLOCATE ALL")

    assert bounded_count(job.pk) == ("200ms", 1)
    assert lock_timeout() == "10s"


def test_a_bounded_read_refused_a_lock_while_preparing_answers_once_the_lock_is_gone(
    patient_session, requester
):
    job = builders.job(by=requester, systems=["grading-db"], start=at(10, 8))

    with psycopg.connect(shared_database_url(), autocommit=False) as other:
        other.execute("LOCK TABLE scheduling_maintenancejob IN ACCESS EXCLUSIVE MODE")
        started = time.monotonic()
        with pytest.raises(OperationalError):
            bounded_count(job.pk)
        took = time.monotonic() - started
        other.rollback()

    assert took < 2, f"the read waited {took:.2f} s for the lock"
    assert bounded_count(job.pk) == ("200ms", 1)


def test_without_prepared_statements_a_bounded_read_is_sent_whole(
    patient_session, requester, monkeypatch
):
    job = builders.job(by=requester, systems=["grading-db"], start=at(10, 8))
    monkeypatch.setitem(connection.settings_dict["OPTIONS"], "prepare_threshold", None)

    with CaptureQueriesContext(connection) as captured:
        row = bounded_count(job.pk)

    assert row == ("200ms", 1)
    assert "PREPARE" not in captured[0]["sql"]
    assert "EXECUTE" not in captured[0]["sql"]


def test_a_bounded_read_keeps_a_literal_percent_sign(patient_session, requester):
    job = builders.job(by=requester, systems=["grading-db"], start=at(10, 8))

    with lock_wait_at_most(milliseconds=200):
        row = read_prepared(
            "SELECT 'a%%b', count(*) FROM scheduling_maintenancejob WHERE id = %s", [job.pk]
        )

    assert row == ("a%b", 1)


def test_a_bounded_read_that_fails_leaves_no_prepared_statement_behind(patient_session):
    with lock_wait_at_most(milliseconds=200), pytest.raises(DataError):
        read_prepared("SELECT %s::int", [2**40])

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'clearway%%'")
        assert cursor.fetchone() == (0,)

"""Contention and overload: the incident, inside Clearway.

A table lock held by someone else, a statement that runs too long or a pool
with no free connection must answer 503 with Retry-After within the timeout
plus a little, never a 500 and never a hang; the gate answers from its cached
snapshot or fails closed (503, allowed false, reason 'unavailable').

The PostgreSQL tests run Clearway in gunicorn against the test database with
the environment a deployment sets (DB_LOCK_TIMEOUT_MS, DB_POOL...), because
those are connection options read when a connection is opened.
"""

import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import psycopg
import pytest
import requests
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from scheduling.models import MaintenanceJob
from scheduling.services import jobs as job_services
from scheduling.services.submission import maintenance_job_submit
from tests import builders
from tests.builders import at
from tests.ci.clients import token_for
from tests.reliability.conftest import ROOT, gunicorn, postgres_only, shared_database_url

LOCK_TIMEOUT_MS = 500
# What "a little" above the timeout may be: a request's own work on loopback.
SLACK = 0.5


def booking(n: int = 0) -> dict:
    return {
        "title": f"Booking {n}",
        "team": "infra",
        "systems": ["reports-db"],
        "start": at(12 + n % 10, 8).isoformat(),
        "end": at(12 + n % 10, 10).isoformat(),
        "impact": "degraded",
    }


@contextmanager
def jobs_table_locked():
    """Another session holds ACCESS EXCLUSIVE on the jobs table, as a migration would."""
    with psycopg.connect(shared_database_url(), autocommit=False) as other:
        other.execute("LOCK TABLE scheduling_maintenancejob IN ACCESS EXCLUSIVE MODE")
        try:
            yield
        finally:
            other.rollback()


def timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


@pytest.fixture
def infra_ci(org, requester):
    """A CI token of infra that books and reads gates, and infra's approved job."""
    secret = token_for(org["infra"], "gate:read", "jobs:write")
    approved = builders.job(by=requester, systems=["reports-db"], start=at(10, 8))
    assert maintenance_job_submit(job_id=approved.pk, by=requester).status == "approved"
    never_asked = builders.job(by=requester, systems=["reports-db"], start=at(20, 8))
    return {
        "headers": {"Authorization": f"Bearer {secret}"},
        "approved": approved.pk,
        "never_asked": never_asked.pk,
    }


# --- PostgreSQL: a real lock, a real pool ----------------------------------------


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_locked_jobs_table_answers_503_within_lock_timeout_plus_500ms_then_recovers(
    infra_ci,
):
    """Pass: during an ACCESS EXCLUSIVE lock, a booking is a 503 with Retry-After in
    under lock_timeout + 500 ms; the warmed gate still answers as before, a gate
    that needs the locked table fails closed; after release the booking is a 201."""
    headers = infra_ci["headers"]
    gate = f"/api/v1/jobs/{infra_ci['approved']}/gate?at=2030-12-10T09:00Z"
    cold_gate = f"/api/v1/jobs/{infra_ci['never_asked']}/gate"
    limit = LOCK_TIMEOUT_MS / 1000 + SLACK
    with gunicorn(DB_LOCK_TIMEOUT_MS=str(LOCK_TIMEOUT_MS)) as app:
        post = lambda n: requests.post(  # noqa: E731
            f"{app.url}/api/v1/jobs", json=booking(n), headers=headers, timeout=30
        )
        warm = requests.get(app.url + gate, headers=headers, timeout=30)
        assert (warm.status_code, warm.json()["allowed"]) == (200, True)

        with jobs_table_locked():
            refused, took = timed(lambda: post(1))
            assert refused.status_code == 503, refused.text
            assert took < limit, f"the booking took {took:.2f} s under the lock"
            assert refused.headers["Retry-After"].isdigit()
            assert refused.json()["code"] == "busy"

            cached, took = timed(lambda: requests.get(app.url + gate, headers=headers, timeout=30))
            assert took < limit
            assert (cached.status_code, cached.json()["allowed"]) == (200, True)

            closed, took = timed(
                lambda: requests.get(app.url + cold_gate, headers=headers, timeout=30)
            )
            assert took < limit
            assert closed.status_code == 503
            assert closed.headers["Retry-After"].isdigit()
            assert closed.json()["allowed"] is False
            assert [r["code"] for r in closed.json()["reasons"]] == ["unavailable"]

        booked, took = timed(lambda: post(2))
        assert booked.status_code == 201, booked.text
        assert took < 2


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_with_a_pool_of_2_and_10_slow_requests_the_extra_ones_are_503_quickly_then_it_recovers(
    infra_ci,
):
    """Pass: DB_POOL_MAX=2, DB_POOL_TIMEOUT=1; 10 bookings stuck behind a table lock
    hold both connections; the other 8 get 503 with Retry-After within the pool
    timeout + 1 s, none is a 500; the first request after the lock is a 201."""
    headers = infra_ci["headers"]
    with gunicorn(
        threads=12,
        DB_POOL="1",
        DB_POOL_MIN="0",
        DB_POOL_MAX="2",
        DB_POOL_TIMEOUT="1",
        DB_LOCK_TIMEOUT_MS="4000",
    ) as app:

        def post(n: int):
            return timed(
                lambda: requests.post(
                    f"{app.url}/api/v1/jobs", json=booking(n), headers=headers, timeout=30
                )
            )

        assert post(0)[0].status_code == 201  # the pool opens its connections
        with jobs_table_locked(), ThreadPoolExecutor(10) as pool:
            answers = list(pool.map(post, range(1, 11)))

        statuses = sorted(response.status_code for response, _ in answers)
        assert statuses == [503] * 10, statuses
        assert all(response.headers.get("Retry-After") for response, _ in answers)
        quick = [took for _, took in answers if took < 1 + 1]
        assert len(quick) >= 8, sorted(took for _, took in answers)

        recovered, took = post(11)
        assert recovered.status_code == 201, recovered.text
        assert took < 1


# --- any database: a busy error is a 503, wherever it surfaces --------------------


@pytest.fixture
def busy_database(monkeypatch):
    """Booking fails as SQLite does when another writer holds the database too long."""

    def locked(**kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(job_services, "maintenance_job_create", locked)


@pytest.mark.django_db
def test_a_busy_database_is_a_json_503_with_retry_after_on_the_api(busy_database, requester, clock):
    """Pass: the API's exception handler maps a busy database to 503 + Retry-After."""
    client = APIClient()
    client.force_authenticate(requester)

    response = client.post("/api/v1/jobs", booking(), format="json")

    assert response.status_code == 503
    assert response["Retry-After"].isdigit()
    assert response.json()["code"] == "busy"


def _locked_for(*words: str):
    """An execute wrapper: statements containing all `words` fail as on a locked SQLite file."""

    def wrapper(execute, sql, params, many, context):
        if all(word in sql for word in words):
            raise OperationalError("database is locked")
        return execute(sql, params, many, context)

    return wrapper


@pytest.mark.django_db
def test_a_busy_database_is_a_503_with_retry_after_on_a_page(requester, client):
    """Pass: DatabaseBusyMiddleware turns a busy error in a page view into a plain 503.

    The session and the signed-in user are loaded lazily, inside the view, so
    their queries are covered the same way.
    """
    client.force_login(requester)

    with connection.execute_wrapper(_locked_for("scheduling_maintenancejob")):
        response = client.get("/jobs/")

    assert response.status_code == 503
    assert response["Retry-After"].isdigit()
    assert response["Content-Type"].startswith("text/plain")


@pytest.mark.django_db
def test_the_gate_fails_closed_when_the_database_cannot_answer(monkeypatch, requester, org, clock):
    """Pass: any database error while deciding is 503 with allowed false, never allowed."""
    from scheduling import gate

    secret = token_for(org["infra"])
    job = builders.job(by=requester, systems=["reports-db"])
    maintenance_job_submit(job_id=job.pk, by=requester)

    def fails(**kwargs):
        raise OperationalError("canceling statement due to statement timeout")

    monkeypatch.setattr(gate, "job_snapshot", fails)
    response = APIClient(HTTP_AUTHORIZATION=f"Bearer {secret}").get(
        f"/api/v1/jobs/{job.pk}/gate", {"at": at(10, 9).isoformat()}
    )

    assert response.status_code == 503
    assert response.json()["allowed"] is False
    assert [r["code"] for r in response.json()["reasons"]] == ["unavailable"]


def test_postgresql_sessions_get_lock_statement_and_idle_timeouts():
    """Pass: the settings give every PostgreSQL session the three timeouts from the env."""
    code = (
        "from django.conf import settings; "
        "print(settings.DATABASES['default']['OPTIONS']['options'])"
    )
    env = {
        "DATABASE_URL": "postgres://u@127.0.0.1:5432/x",
        "DB_LOCK_TIMEOUT_MS": "750",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )

    assert done.stdout.split() == [
        "-c",
        "lock_timeout=750",
        "-c",
        "statement_timeout=15000",
        "-c",
        "idle_in_transaction_session_timeout=60000",
    ]


@pytest.mark.django_db
def test_a_job_write_answers_without_reading_the_jobs_table_after_its_change(
    requester, reviewer, clock
):
    """Pass: after the last write of a booking, submit, approval or edit, no query reads
    the jobs table: a lock taken there right after the commit cannot turn the answer
    into a 503 for a change that was made (which the client would then repeat)."""
    client = APIClient()
    client.force_authenticate(requester)
    reviewing = APIClient()
    reviewing.force_authenticate(reviewer)
    body = {**booking(), "systems": ["grading-db"], "impact": "exclusive_lock"}
    job: dict = {}
    steps = [
        lambda: job.update(client.post("/api/v1/jobs", body, format="json").json()),
        lambda: client.post(f"/api/v1/jobs/{job['id']}/submit", {}, format="json"),
        lambda: reviewing.post(f"/api/v1/jobs/{job['id']}/approve", {"team": "grading"}),
        lambda: client.patch(f"/api/v1/jobs/{job['id']}", {"title": "Renamed"}, format="json"),
    ]

    for step in steps:
        with CaptureQueriesContext(connection) as queries:
            step()
        sql = [q["sql"] for q in queries.captured_queries]
        # The service's transaction is a savepoint inside the test's: its commit
        # is the release of the first savepoint the step opened.
        opened = next(q for q in sql if q.startswith("SAVEPOINT"))
        committed = sql.index(f"RELEASE {opened}")
        assert not [q for q in sql[committed + 1 :] if '"scheduling_maintenancejob"' in q]
    assert MaintenanceJob.objects.get(pk=job["id"]).status == "approved"

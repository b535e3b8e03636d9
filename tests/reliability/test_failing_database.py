"""A failing database: a lost connection, a locked table or a locked token row
answers 503 with Retry-After (never 500), quickly, and the next request works.

The PostgreSQL tests run Clearway in gunicorn against the test database and
act on it from a second connection, as a failover (pg_terminate_backend) or a
migration (LOCK TABLE) would.
"""

import re
import threading
import time

import psycopg
import psycopg.errors
import pytest
import requests
from django.db import IntegrityError, InterfaceError, OperationalError, ProgrammingError, connection
from django.test import Client
from rest_framework.test import APIClient

from scheduling.db import is_busy, is_disconnect, write_without_waiting
from scheduling.models import ApiToken
from scheduling.models.tokens import digest
from tests import builders
from tests.builders import at
from tests.ci.clients import token_for
from tests.reliability.conftest import gunicorn, postgres_only, shared_database_url

LOCK_TIMEOUT_MS = 1000
SLACK = 0.5
LIMIT = LOCK_TIMEOUT_MS / 1000 + SLACK


def booking(n: int = 0) -> dict:
    return {
        "title": f"Booking {n}",
        "team": "infra",
        "systems": ["reports-db"],
        "start": at(12 + n % 10, 8).isoformat(),
        "end": at(12 + n % 10, 10).isoformat(),
        "impact": "degraded",
    }


def lost(message: str, cause: BaseException | None = None) -> OperationalError:
    error = OperationalError(message)
    error.__cause__ = cause
    return error


# --- recognising a lost connection (any database) ---------------------------------------


@pytest.mark.parametrize(
    "error",
    [
        lost("terminating connection due to administrator command", psycopg.errors.AdminShutdown()),
        lost("terminating connection due to crash of another server process"),
        lost("server closed the connection unexpectedly"),
        lost("consuming input failed: EOF detected"),
        lost("connection failed: Connection refused", psycopg.errors.ConnectionFailure()),
        InterfaceError("connection already closed"),
        lost('connection failed: connection to server at "10.0.0.5", port 5432 failed: timeout'),
    ],
    ids=["admin shutdown", "crash", "closed", "eof", "refused", "interface", "connect timeout"],
)
def test_a_lost_connection_is_a_try_again(error):
    assert is_disconnect(error)
    assert is_busy(error)


@pytest.mark.parametrize(
    "error",
    [IntegrityError("duplicate key"), ProgrammingError("syntax error"), ValueError("connection")],
)
def test_other_errors_are_not_a_lost_connection(error):
    assert not is_disconnect(error)
    assert not is_busy(error)


def _failing(word: str, error: Exception):
    def wrapper(execute, sql, params, many, context):
        if word in sql:
            raise error
        return execute(sql, params, many, context)

    return wrapper


@pytest.mark.django_db
def test_a_connection_lost_in_an_api_view_is_a_json_503_with_retry_after(requester, clock):
    client = APIClient()
    client.force_authenticate(requester)

    gone = lost("server closed the connection unexpectedly")
    with connection.execute_wrapper(_failing("scheduling_system", gone)):
        response = client.post("/api/v1/jobs", booking(), format="json")

    assert response.status_code == 503
    assert response["Retry-After"].isdigit()
    assert response.json()["code"] == "busy"


@pytest.mark.django_db
def test_a_connection_lost_in_a_page_is_a_503_with_retry_after(requester, client):
    client.force_login(requester)

    gone = InterfaceError("connection already closed")
    with connection.execute_wrapper(_failing("scheduling_maintenancejob", gone)):
        response = client.get("/jobs/")

    assert response.status_code == 503
    assert response["Retry-After"].isdigit()


@pytest.mark.django_db
def test_a_busy_database_while_saving_the_session_is_a_503_not_a_400(requester):
    """The zone page changes the session; its UPDATE runs after the view, in
    SessionMiddleware, where Django turns a failure into SessionInterrupted (400)."""
    browser = Client()
    browser.force_login(requester)

    busy = OperationalError("database is locked")
    with connection.execute_wrapper(_failing('UPDATE "django_session"', busy)):
        response = browser.post("/zone/", {"zone": "Europe/Paris"})

    assert response.status_code == 503
    assert response["Retry-After"].isdigit()


# --- PostgreSQL: real connections, real locks -------------------------------------------


def app_backends(database: str) -> list[int]:
    with psycopg.connect(shared_database_url(), autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid() "
            "AND pid <> %s",
            [database, connection.connection.info.backend_pid],
        ).fetchall()
    return [pid for (pid,) in rows]


def terminate(pids: list[int]) -> None:
    with psycopg.connect(shared_database_url(), autocommit=True) as admin:
        for pid in pids:
            admin.execute("SELECT pg_terminate_backend(%s)", [pid])


def wait_for_lock_waiter(database: str, timeout: float = 5) -> list[int]:
    deadline = time.monotonic() + timeout
    with psycopg.connect(shared_database_url(), autocommit=True) as admin:
        while time.monotonic() < deadline:
            rows = admin.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'",
                [database],
            ).fetchall()
            if rows:
                return [pid for (pid,) in rows]
            time.sleep(0.02)
    raise AssertionError("no request started waiting on the lock")


@pytest.fixture
def infra_ci(org, requester):
    secret = token_for(org["infra"], "gate:read", "jobs:write")
    job = builders.job(by=requester, systems=["reports-db"], start=at(10, 8))
    return {"headers": {"Authorization": f"Bearer {secret}"}, "job": job.pk}


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_every_connection_terminated_while_idle_the_next_requests_simply_work(infra_ci):
    """A failover between requests: CONN_HEALTH_CHECKS finds the dead connection
    before the first query, so the next booking and gate just work."""
    headers = infra_ci["headers"]
    with gunicorn(DB_LOCK_TIMEOUT_MS=str(LOCK_TIMEOUT_MS)) as app:
        assert requests.post(f"{app.url}/api/v1/jobs", json=booking(1), headers=headers).ok
        terminate(app_backends(connection.settings_dict["NAME"]))

        started = time.monotonic()
        booked = requests.post(f"{app.url}/api/v1/jobs", json=booking(2), headers=headers)
        gate = requests.get(f"{app.url}/api/v1/jobs/{infra_ci['job']}/gate", headers=headers)

        assert booked.status_code == 201, booked.text
        assert gate.status_code in (200, 423), gate.text
        assert time.monotonic() - started < 3


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_with_the_pool_every_connection_terminated_is_503s_then_201_within_3s(infra_ci):
    """The same with DB_POOL=1: the pool checks each connection it hands out and
    replaces dead ones, but psycopg_pool takes about a second to hand out the new
    one, so the first answers may be 503 (never 500) and a booking is a 201
    within 3 s."""
    headers = infra_ci["headers"]
    env = {"DB_POOL": "1", "DB_POOL_MIN": "2", "DB_POOL_TIMEOUT": "1"}
    with gunicorn(DB_LOCK_TIMEOUT_MS=str(LOCK_TIMEOUT_MS), **env) as app:
        assert requests.post(f"{app.url}/api/v1/jobs", json=booking(1), headers=headers).ok
        terminate(app_backends(connection.settings_dict["NAME"]))

        started, answers = time.monotonic(), []
        while time.monotonic() - started < 3 and 201 not in answers:
            booked = requests.post(f"{app.url}/api/v1/jobs", json=booking(2), headers=headers)
            answers.append(booked.status_code)
            if booked.status_code == 503:
                assert booked.headers["Retry-After"].isdigit()

        assert answers[-1] == 201, answers
        assert set(answers) <= {201, 503}, answers


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_connection_terminated_mid_request_is_a_503_and_the_next_request_works(infra_ci):
    """A failover while a booking waits: 503 with Retry-After, never 500, and the
    booking after it is a 201 within 3 s."""
    headers = infra_ci["headers"]
    database = connection.settings_dict["NAME"]
    with gunicorn(DB_LOCK_TIMEOUT_MS="10000") as app:
        answer = {}

        def book():
            answer["response"] = requests.post(
                f"{app.url}/api/v1/jobs", json=booking(1), headers=headers, timeout=30
            )

        with psycopg.connect(shared_database_url()) as locker:
            locker.execute("LOCK TABLE scheduling_maintenancejob IN ACCESS EXCLUSIVE MODE")
            booker = threading.Thread(target=book)
            booker.start()
            terminate(wait_for_lock_waiter(database))
            booker.join(timeout=30)
            locker.rollback()

        refused = answer["response"]
        assert refused.status_code == 503, refused.text
        assert refused.headers["Retry-After"].isdigit()
        assert refused.json()["code"] == "busy"
        started = time.monotonic()
        booked = requests.post(f"{app.url}/api/v1/jobs", json=booking(2), headers=headers)
        assert booked.status_code == 201, booked.text
        assert time.monotonic() - started < 3


@postgres_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("lock", ["SHARE", "ROW"])
def test_a_locked_token_never_makes_the_gate_wait_for_last_used(infra_ci, lock):
    """The token table in SHARE mode (or the token's row locked for update): the
    gate still answers at once; last_used is skipped, not waited for."""
    headers = infra_ci["headers"]
    gate = f"/api/v1/jobs/{infra_ci['job']}/gate"
    with (
        gunicorn(DB_LOCK_TIMEOUT_MS=str(LOCK_TIMEOUT_MS)) as app,
        psycopg.connect(shared_database_url()) as locker,
    ):
        if lock == "SHARE":
            locker.execute("LOCK TABLE scheduling_apitoken IN SHARE MODE")
        else:
            locker.execute("SELECT 1 FROM scheduling_apitoken FOR UPDATE")
        started = time.monotonic()
        answer = requests.get(app.url + gate, headers=headers, timeout=30)
        took = time.monotonic() - started
        locker.rollback()

    assert answer.status_code in (200, 423), answer.text
    assert took < SLACK, f"the gate waited {took:.2f} s behind last_used"
    assert ApiToken.objects.get().last_used is None


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_write_without_waiting_skips_a_write_behind_a_lock_within_50ms(org):
    token = ApiToken.objects.get(digest=digest(token_for(org["infra"])))
    with psycopg.connect(shared_database_url()) as locker:
        locker.execute("SELECT 1 FROM scheduling_apitoken WHERE id = %s FOR UPDATE", [token.pk])
        started = time.monotonic()
        written = write_without_waiting(
            lambda: ApiToken.objects.filter(pk=token.pk).update(name="touched")
        )
        took = time.monotonic() - started
        locker.rollback()

    assert written is False
    assert took < 0.05
    assert ApiToken.objects.get(pk=token.pk).name != "touched"
    assert write_without_waiting(lambda: ApiToken.objects.filter(pk=token.pk).update(name="now"))
    assert ApiToken.objects.get(pk=token.pk).name == "now"


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_the_gate_answers_within_lock_timeout_plus_500ms_while_the_jobs_table_is_locked(
    infra_ci,
):
    """Two sync workers, six CI pollers, the calendar just changed (no snapshot is
    cached) and the jobs table held ACCESS EXCLUSIVE: every gate answer comes
    within DB_LOCK_TIMEOUT_MS + 0.5 s, each a 503 that says 'not allowed'."""
    headers = infra_ci["headers"]
    gate = f"/api/v1/jobs/{infra_ci['job']}/gate"
    with gunicorn(
        threads=1,
        options=("--workers", "2", "--worker-class", "sync"),
        DB_LOCK_TIMEOUT_MS=str(LOCK_TIMEOUT_MS),
    ) as app:
        assert requests.post(f"{app.url}/api/v1/jobs", json=booking(1), headers=headers).ok
        answers: list[tuple[int, float, bool]] = []

        def poll(until: float) -> None:
            with requests.Session() as session:
                while time.monotonic() < until:
                    started = time.monotonic()
                    response = session.get(app.url + gate, headers=headers, timeout=30)
                    answers.append(
                        (
                            response.status_code,
                            time.monotonic() - started,
                            response.json().get("allowed"),
                        )
                    )

        with psycopg.connect(shared_database_url()) as locker:
            locker.execute("LOCK TABLE scheduling_maintenancejob IN ACCESS EXCLUSIVE MODE")
            until = time.monotonic() + 3
            pollers = [threading.Thread(target=poll, args=(until,)) for _ in range(6)]
            for poller in pollers:
                poller.start()
            for poller in pollers:
                poller.join(timeout=30)
            locker.rollback()

    assert answers
    assert {status for status, _, _ in answers} <= {503}, answers
    assert not any(allowed for _, _, allowed in answers)
    slowest = max(took for _, took, _ in answers)
    assert slowest < LIMIT, f"the slowest gate answer took {slowest:.2f} s"


def test_a_database_that_cannot_be_reached_answers_503_with_retry_after_not_500():
    """Nothing listens where DATABASE_URL points (a server down, a failover in
    progress): the API and a sign-in answer 503 with Retry-After."""
    with (
        gunicorn(
            DATABASE_URL="postgres://postgres@127.0.0.1:1/clearway",
            # DEBUG=0 would need collectstatic for the sign-in page.
            DEBUG="1",
            CSRF_COOKIE_SECURE="0",
        ) as app,
        requests.Session() as browser,
    ):
        api = requests.get(
            f"{app.url}/api/v1/jobs", headers={"Authorization": "Bearer cw_x"}, timeout=30
        )
        page = browser.get(f"{app.url}/accounts/login/", timeout=30)
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        form = browser.post(
            f"{app.url}/accounts/login/",
            data={"username": "alice", "password": "pw", "csrfmiddlewaretoken": csrf},
            timeout=30,
        )

    assert api.status_code == 503, api.text
    assert api.headers["Retry-After"].isdigit()
    assert api.json()["code"] == "busy"
    assert form.status_code == 503, form.text[:500]
    assert form.headers["Retry-After"].isdigit()

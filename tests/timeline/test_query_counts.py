"""Checks, state, gate and slots ask the database a constant number of questions.

With the per-process caches off (as on several app machines), each answer is
counted on a small calendar and again after the calendar has grown tenfold,
near the question and far from it: the count must not move.
"""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import builders
from tests.builders import at
from tests.ci.clients import bearer, token_for
from tests.workflow import approved_job

pytestmark = pytest.mark.django_db


@pytest.fixture
def ci(org, settings):
    settings.CLEARWAY_PROCESS_CACHES = False
    return bearer(token_for(org["infra"]))


def grow(*, times: int, offset: int = 0) -> None:
    """More deadlines on grading-api (a dependent of grading-db) and blackouts, near and far.

    Small cohorts a week apart: the calendar grows without changing the answers.
    """
    for n in range(times):
        builders.deadline(
            due=at(2) + timedelta(days=7 * n + offset), cohort_size=20, systems=["grading-api"]
        )
        builders.blackout(
            systems=["submissions-web"],
            start=at(20) + timedelta(days=n + offset),
            end=at(20) + timedelta(days=n + offset, hours=2),
            severity="flag",
        )


def queries(call) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = call()
    assert response.status_code in (200, 423), response.content[:500]
    return len(captured)


def assert_constant(call):
    grow(times=3)
    queries(call)  # the token's first use is recorded once
    small = queries(call)
    grow(times=30, offset=1)
    assert queries(call) == small


def test_checks_cost_the_same_on_a_bigger_calendar(ci):
    body = {
        "systems": ["grading-db"],
        "start": "2030-12-04T08:00:00Z",
        "end": "2030-12-04T10:00:00Z",
    }

    assert_constant(lambda: ci.post("/api/v1/checks", body, format="json"))


def test_state_costs_the_same_on_a_bigger_calendar(ci):
    assert_constant(lambda: ci.get("/api/v1/state?systems=grading-db&at=2030-12-04T09:00:00Z"))


def test_slots_cost_the_same_on_a_bigger_calendar(ci):
    assert_constant(lambda: ci.get("/api/v1/slots?systems=grading-db&duration=PT4H&limit=3"))


def test_the_gate_costs_the_same_on_a_bigger_calendar(ci, requester, reviewer):
    job = approved_job(requester=requester, reviewer=reviewer, start=at(10, 8))

    assert_constant(lambda: ci.get(f"/api/v1/jobs/{job.pk}/gate?at=2030-12-10T09:00:00Z"))


def test_an_approved_jobs_gate_asks_a_fixed_number_of_questions(
    ci, requester, reviewer, django_assert_num_queries
):
    job = approved_job(requester=requester, reviewer=reviewer, start=at(10, 8))
    grow(times=10)
    first = ci.get(f"/api/v1/jobs/{job.pk}/gate?at=2030-12-10T09:00:00Z")
    assert first.status_code == 200, first.json()

    # SQLite: the job with its systems and windows (3), the reach and the rows
    # in its window. PostgreSQL: all of it in one prepared statement, sent in
    # one message after the gate's short lock_timeout (set_config local to
    # that message, so nothing puts it back). Nothing grows with the
    # calendar, and no calendar version with the caches off (nothing is keyed
    # by it). The token was read by the first request and is trusted for
    # CLEARWAY_TOKEN_CACHE_SECONDS: no query.
    with django_assert_num_queries(5 if connection.vendor == "sqlite" else 1):
        ci.get(f"/api/v1/jobs/{job.pk}/gate?at=2030-12-10T09:00:00Z")


def test_a_clear_check_is_one_statement_on_postgresql_and_three_reads_on_sqlite(
    ci, django_assert_num_queries
):
    body = {
        "systems": ["grading-db"],
        "start": "2031-06-04T08:00:00Z",
        "end": "2031-06-04T10:00:00Z",
    }
    # The token's first use is recorded once, and the token is then trusted
    # for CLEARWAY_TOKEN_CACHE_SECONDS, so the second check reads no token.
    ci.post("/api/v1/checks", body, format="json")

    # A window with nothing in it is its own next clear window: no walk, no
    # calendar version, and only the systems asked about. On PostgreSQL the
    # names, the reach and the window's rows are one statement; SQLite reads
    # them one after the other.
    with django_assert_num_queries(3 if connection.vendor == "sqlite" else 1):
        response = ci.post("/api/v1/checks", body, format="json")

    assert response.json()["decision"] == "clear"
    assert response.json()["next_clear"] == {
        "start": "2031-06-04T08:00:00+00:00",
        "end": "2031-06-04T10:00:00+00:00",
    }


def test_a_flagged_check_adds_only_the_gaps_read_for_its_next_clear_window(
    ci, django_assert_num_queries
):
    builders.blackout(
        systems=["grading-db"], start=at(20), end=at(20) + timedelta(hours=2), severity="flag"
    )
    start = at(20) - timedelta(hours=1)
    body = {
        "systems": ["grading-db"],
        "start": start.isoformat(),
        "end": (start + timedelta(hours=2)).isoformat(),
    }
    ci.post("/api/v1/checks", body, format="json")

    with django_assert_num_queries(4 if connection.vendor == "sqlite" else 2):
        response = ci.post("/api/v1/checks", body, format="json")

    assert response.json()["decision"] == "flag"
    assert response.json()["next_clear"] is not None


def test_a_state_question_does_not_read_every_system(ci):
    builders.system(slug="unrelated-1")
    builders.system(slug="unrelated-2")
    url = "/api/v1/state?systems=grading-db&at=2031-06-04T09:00:00Z"
    ci.get(url)

    with CaptureQueriesContext(connection) as captured:
        ci.get(url)

    assert not any(
        'FROM "scheduling_system"' in q["sql"] and "WHERE" not in q["sql"]
        for q in captured.captured_queries
    )


def test_slots_behind_weeks_of_blocked_time_cost_what_a_free_day_does(ci):
    url = "/api/v1/slots?systems=grading-db&duration=PT4H&limit=3&after=2031-03-03T00:00:00Z"
    first = datetime(2031, 3, 3, tzinfo=UTC)

    def flag(*, day: int, hours: int) -> None:
        start = first + timedelta(days=day)
        builders.blackout(
            systems=["grading-db"], start=start, end=start + timedelta(hours=hours), severity="flag"
        )

    for day in range(70):  # an hour flagged every night: three gaps in the first days
        flag(day=day, hours=1)
    ci.get(url)
    near = queries(lambda: ci.get(url))
    for day in range(60):  # then sixty whole days flagged: the first gap is two months on
        flag(day=day, hours=24)

    far = queries(lambda: ci.get(url))
    response = ci.get(url)

    assert far == near
    assert response.json()["slots"][0]["start"] == "2031-05-02T01:00:00+00:00"


def test_a_closed_gate_asks_its_notes_only_when_their_probe_finds_something(
    ci, requester, reviewer, django_assert_num_queries
):
    job = approved_job(requester=requester, reviewer=reviewer, start=at(10, 8))
    url = f"/api/v1/jobs/{job.pk}/gate?at=2030-12-09T09:00:00Z"
    first = ci.get(url)
    assert first.status_code == 423, first.json()

    # Outside its window: closed. SQLite asks the overrun note (one read of the
    # runs); PostgreSQL asks its probe inside the gate's statement, and it
    # found no overrunning run, so the note is not called.
    with django_assert_num_queries(6 if connection.vendor == "sqlite" else 1):
        ci.get(url)


@pytest.mark.parametrize(
    ("at_", "answer"),
    [
        ("2030-12-04T09:00:00Z", "open"),
        ("2030-12-02T09:00:00Z", "flagged"),
        ("2030-12-03T09:00:00Z", "closed"),
    ],
)
def test_a_state_question_reads_its_first_week_in_one_statement_on_postgresql(
    ci, at_, answer, django_assert_num_queries
):
    # A flag blackout on 12-02, a refusing one on 12-03, nothing on 12-04.
    builders.blackout(systems=["grading-api"], start=at(2), end=at(2, 18), severity="flag")
    builders.blackout(systems=["grading-api"], start=at(3), end=at(3, 18), severity="refuse")
    url = f"/api/v1/state?systems=grading-db&at={at_}"
    assert ci.get(url).json()["state"] == answer

    # PostgreSQL: the names, the reach, the first week of what refuses and of
    # what flags, and the rows at the instant, in one statement. An open answer
    # with nothing in that week reads the rest of the look-ahead of each walk;
    # a closed one reads its closed stretch to say what refuses until when.
    sqlite = {"open": 6, "flagged": 5, "closed": 4}
    postgresql = {"open": 3, "flagged": 1, "closed": 2}
    expected = (sqlite if connection.vendor == "sqlite" else postgresql)[answer]
    with django_assert_num_queries(expected):
        ci.get(url)

"""GET /api/v1/jobs/{id}/gate: may this booked job run now? 200 when it may, 423 when not.

The clock starts at 2030-12-01 09:00 UTC (tests.personas.clock); the job under
test is booked on grading-db for 2030-12-10 08:00-12:00 UTC unless said otherwise.
"""

import subprocess
from datetime import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from scheduling.models import MaintenanceJob
from scheduling.services.freeze import freeze_schedule, freeze_set
from tests import builders
from tests.builders import at
from tests.ci.clients import bearer, token_for
from tests.workflow import approved_job, pending_job

pytestmark = pytest.mark.django_db

CONTRACT_FIELDS = {
    "allowed",
    "job",
    "status",
    # Added (a new field, so no version bump): standard, normal or emergency.
    "change_type",
    "window",
    "closes_at",
    "next_window",
    "reasons",
    "at",
}


def gate(client, job, query: str = ""):
    return client.get(f"/api/v1/jobs/{job.pk}/gate{query}")


def codes(response) -> list[str]:
    return [reason["code"] for reason in response.json()["reasons"]]


# --- allowed ------------------------------------------------------------------


def test_inside_an_approved_clear_window_the_gate_answers_200_with_the_contract_fields(
    ci, requester, reviewer, clock
):
    job = approved_job(requester=requester, reviewer=reviewer)
    clock.move_to(at(10, 9))

    response = gate(ci, job)

    assert response.status_code == 200
    assert set(response.json()) == CONTRACT_FIELDS
    assert response.json() == {
        "allowed": True,
        "job": job.pk,
        "status": "approved",
        "change_type": "normal",
        "window": {"start": "2030-12-10T08:00:00+00:00", "end": "2030-12-10T12:00:00+00:00"},
        "closes_at": "2030-12-10T12:00:00+00:00",
        "next_window": None,
        "reasons": [],
        "at": "2030-12-10T09:00:00+00:00",
    }


def test_the_gate_opens_at_the_first_instant_of_the_window_and_closes_at_its_end(
    ci, requester, reviewer, clock
):
    job = approved_job(requester=requester, reviewer=reviewer)

    clock.move_to(at(10, 8))
    opening = gate(ci, job)
    clock.move_to(at(10, 12))
    closing = gate(ci, job)

    assert (opening.status_code, closing.status_code) == (200, 423)


# --- not approved -------------------------------------------------------------


def test_a_draft_is_refused_as_not_approved_even_inside_its_window(ci, org, requester, clock):
    job = builders.job(owner=org["infra"], by=requester)
    clock.move_to(at(10, 9))

    response = gate(ci, job)

    assert response.status_code == 423
    assert response.json()["allowed"] is False
    assert response.json()["status"] == "draft"
    assert codes(response) == ["not_approved"]
    assert "has not been submitted" in response.json()["reasons"][0]["message"]


def test_a_pending_job_is_refused_with_the_teams_it_waits_for(ci, requester, reviewer, clock):
    job = pending_job(requester=requester)
    clock.move_to(at(10, 9))

    response = gate(ci, job)

    assert response.status_code == 423
    assert response.json()["status"] == "pending"
    [reason] = response.json()["reasons"]
    assert reason["code"] == "not_approved"
    assert reason["message"] == f"Job #{job.pk} is waiting for review by grading."


@pytest.mark.django_db(transaction=True)
def test_a_job_conflicted_by_a_later_deadline_is_refused_as_conflicted(
    ci, requester, reviewer, clock
):
    job = approved_job(requester=requester, reviewer=reviewer)
    # Committed: the re-evaluation runs and takes the job out of approval.
    builders.deadline(due=at(11, 23, 59), cohort_size=2000, systems=["grading-api"])
    assert MaintenanceJob.objects.get(pk=job.pk).status == "conflicted"
    clock.move_to(at(10, 9))

    response = gate(ci, job)

    assert response.status_code == 423
    assert response.json()["status"] == "conflicted"
    assert codes(response) == ["conflicted", "refused_by_deadline"]
    assert "Project 3" in response.json()["reasons"][0]["message"]


# --- outside the window -------------------------------------------------------


def test_before_the_window_the_gate_is_closed_until_the_window_starts(
    ci, requester, reviewer, clock
):
    job = approved_job(requester=requester, reviewer=reviewer)
    clock.move_to(at(9, 9))

    response = gate(ci, job)

    assert response.status_code == 423
    [reason] = response.json()["reasons"]
    assert reason["code"] == "outside_window"
    assert reason["until"] == "2030-12-10T08:00:00+00:00"
    assert response.json()["window"] is None
    assert response.json()["next_window"] == {
        "start": "2030-12-10T08:00:00+00:00",
        "end": "2030-12-10T12:00:00+00:00",
    }


def test_after_the_last_window_the_gate_stays_closed_with_no_next_window(
    ci, requester, reviewer, clock
):
    job = approved_job(requester=requester, reviewer=reviewer)
    clock.move_to(at(10, 13))

    response = gate(ci, job)

    assert response.status_code == 423
    [reason] = response.json()["reasons"]
    assert (reason["code"], reason["until"]) == ("outside_window", None)
    assert "has ended" in reason["message"]
    assert response.json()["next_window"] is None


def test_a_recurring_job_opens_in_its_second_occurrence(ci, requester, reviewer, clock):
    job = approved_job(requester=requester, reviewer=reviewer, rrule="FREQ=WEEKLY;COUNT=3")

    clock.move_to(at(14, 9))
    between = gate(ci, job)
    clock.move_to(at(17, 9))
    second = gate(ci, job)

    assert between.status_code == 423
    assert between.json()["next_window"]["start"] == "2030-12-17T08:00:00+00:00"
    assert second.status_code == 200
    assert second.json()["window"] == {
        "start": "2030-12-17T08:00:00+00:00",
        "end": "2030-12-17T12:00:00+00:00",
    }


# --- calendars at call time ---------------------------------------------------


def test_a_change_freeze_closes_the_gate(ci, requester, reviewer, admin, clock):
    job = approved_job(requester=requester, reviewer=reviewer)
    clock.move_to(at(10, 9))
    freeze_set(active=True, reason="exam week", by=admin)

    response = gate(ci, job)

    assert response.status_code == 423
    [reason] = response.json()["reasons"]
    assert reason["code"] == "freeze"
    assert "exam week" in reason["message"]
    assert reason["until"] is None


def test_an_open_gate_closes_at_a_freeze_scheduled_inside_its_window(
    ci, requester, reviewer, admin, clock
):
    job = approved_job(requester=requester, reviewer=reviewer)  # Dec 10, 08:00-12:00
    freeze_schedule(reason="exam hour", start=at(10, 10), end=at(10, 11), by=admin)
    clock.move_to(at(10, 9))

    response = gate(ci, job)

    # Open now, but a pipeline reading closes_at must stop when the freeze begins.
    assert response.status_code == 200
    assert response.json()["closes_at"] == "2030-12-10T10:00:00+00:00"


def test_a_deadline_published_a_minute_ago_closes_the_gate_before_reevaluation_runs(
    ci, requester, reviewer, curriculum_staff, org, clock
):
    job = approved_job(requester=requester, reviewer=reviewer)
    clock.move_to(at(10, 8, 59))
    # Inside the test's transaction: the re-evaluation queued on commit never runs.
    builders.deadline(
        due=at(11, 23, 59), owner=org["curriculum"], by=curriculum_staff, cohort_size=2000
    )
    clock.move_to(at(10, 9))

    response = gate(ci, job)

    assert MaintenanceJob.objects.get(pk=job.pk).status == "approved"
    assert response.status_code == 423
    assert response.json()["status"] == "approved"
    [reason] = response.json()["reasons"]
    assert reason["code"] == "refused_by_deadline"
    assert reason["teams"] == ["curriculum"]
    # The traffic refuses until 6 hours after the due instant, past the window's end.
    assert reason["until"] == "2030-12-12T05:59:00+00:00"
    assert response.json()["closes_at"] is None


def test_a_refuse_blackout_published_a_minute_ago_closes_the_gate(ci, requester, reviewer, clock):
    job = approved_job(requester=requester, reviewer=reviewer)
    clock.move_to(at(10, 8, 59))
    builders.blackout(systems=["grading-db"], start=at(10, 7), end=at(10, 10), title="Exam marking")
    clock.move_to(at(10, 9))

    response = gate(ci, job)

    assert response.status_code == 423
    [reason] = response.json()["reasons"]
    assert reason["code"] == "refused_by_blackout"
    assert reason["until"] == "2030-12-10T10:00:00+00:00"
    assert "Exam marking" in reason["message"]


def test_a_flag_blackout_leaves_an_approved_job_allowed(ci, requester, reviewer, clock):
    job = approved_job(requester=requester, reviewer=reviewer)
    builders.blackout(systems=["grading-db"], start=at(10, 7), end=at(10, 10), severity="flag")
    clock.move_to(at(10, 9))

    assert gate(ci, job).status_code == 200


# --- the request --------------------------------------------------------------


def test_at_asks_what_the_gate_would_answer_then(ci, requester, reviewer, clock):
    job = approved_job(requester=requester, reviewer=reviewer)

    inside = gate(ci, job, "?at=2030-12-10T10:00:00%2B01:00")
    now = gate(ci, job)

    assert inside.status_code == 200
    assert datetime.fromisoformat(inside.json()["at"]) == at(10, 9)
    assert now.status_code == 423
    assert datetime.fromisoformat(now.json()["at"]) == at(1, 9)


@pytest.mark.parametrize(
    "value", ["tomorrow", "2030-12-10T09:00:00", "9999-12-31T23:00:00Z", "0001-01-01T00:00:00Z"]
)
def test_a_bad_at_is_a_400_naming_the_parameter(ci, requester, reviewer, value):
    job = approved_job(requester=requester, reviewer=reviewer)

    response = ci.get(f"/api/v1/jobs/{job.pk}/gate", {"at": value})

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["at"]


@pytest.mark.parametrize("pk", ["999999", "9223372036854775808", "99999999999999999999999"])
def test_an_unknown_job_is_a_404_in_json(ci, pk):
    response = ci.get(f"/api/v1/jobs/{pk}/gate")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"code": "not_found", "message": f"There is no job #{pk}."}


def test_the_gate_answers_with_and_without_a_trailing_slash(ci, requester, reviewer, clock):
    job = approved_job(requester=requester, reviewer=reviewer)
    clock.move_to(at(10, 9))

    with_slash = ci.get(f"/api/v1/jobs/{job.pk}/gate/")
    without = ci.get(f"/api/v1/jobs/{job.pk}/gate")

    assert (with_slash.status_code, without.status_code) == (200, 200)
    assert with_slash.json() == without.json()


def test_the_gate_is_one_bounded_set_of_queries(
    ci, requester, reviewer, clock, django_assert_max_num_queries
):
    job = approved_job(requester=requester, reviewer=reviewer)
    clock.move_to(at(10, 9))
    gate(ci, job)  # fills the busy-window cache, as any earlier call would

    # The token (its last_used is fresh), the job, its systems, its occurrences
    # and the calendar version: the busy windows come from the cache.
    with django_assert_max_num_queries(5):
        response = gate(ci, job)

    assert response.status_code == 200


def test_the_gate_stays_bounded_when_the_calendars_just_changed(
    ci, requester, reviewer, clock, django_assert_max_num_queries
):
    job = approved_job(requester=requester, reviewer=reviewer)
    for day in range(2, 9):
        builders.blackout(systems=["grading-db"], start=at(day, 1), end=at(day, 2))
        builders.deadline(due=at(day, 12), cohort_size=50, title=f"Quiz {day}")
    clock.move_to(at(10, 9))

    # A cold cache: as above, plus last_used, the dependency closure (one query
    # per level: grading-db <- grading-api <- submissions-web) and the window
    # sources (freeze, other jobs and their systems, allowed windows, blackouts,
    # deadlines), whatever the number of blackouts and deadlines. On PostgreSQL,
    # two more: the gate's short lock wait, set and put back.
    with django_assert_max_num_queries(17 if connection.vendor == "postgresql" else 15):
        response = gate(ci, job)

    assert response.status_code == 200


def test_a_closed_gate_reads_the_runs_only_through_the_overrun_probe_on_postgresql(
    ci, requester, reviewer, clock
):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite asks each gate note itself")
    job = approved_job(requester=requester, reviewer=reviewer)
    gate(ci, job)  # before its window: closed; the caches are filled

    with CaptureQueriesContext(connection) as captured:
        response = gate(ci, job)

    assert response.status_code == 423
    runs = [query["sql"] for query in captured if "operations_run" in query["sql"]]
    assert len(runs) == 1
    assert "EXISTS" in runs[0]


@pytest.mark.django_db(transaction=True)
def test_curl_fail_exits_zero_only_when_the_job_may_run(
    live_server, org, requester, reviewer, clock
):
    job = approved_job(requester=requester, reviewer=reviewer)
    secret = token_for(org["infra"])

    def curl(at_: str) -> int:
        command = [
            "curl",
            "--silent",
            "--fail",
            "--output",
            "/dev/null",
            "--header",
            f"Authorization: Bearer {secret}",
            f"{live_server.url}/api/v1/jobs/{job.pk}/gate?at={at_}",
        ]
        return subprocess.run(command, timeout=30, check=False).returncode

    assert curl("2030-12-10T09:00:00Z") == 0
    assert curl("2030-12-10T13:00:00Z") == 22  # curl's exit code for an HTTP error


def test_every_refusal_is_a_non_2xx_answer(org, requester, reviewer, admin, clock):
    ci = bearer(token_for(org["infra"]))
    draft = builders.job(owner=org["infra"], by=requester, start=at(10, 8))
    approved = approved_job(requester=requester, reviewer=reviewer, start=at(10, 8))
    clock.move_to(at(10, 9))
    outside = gate(ci, approved, "?at=2030-12-11T09:00:00Z")
    freeze_set(active=True, by=admin)

    answers = [gate(ci, draft), outside, gate(ci, approved)]

    assert [a.status_code for a in answers] == [423, 423, 423]
    assert all(a.json()["allowed"] is False and a.json()["reasons"] for a in answers)


@pytest.mark.parametrize("pk", ["9223372036854775808", "9" * 5000])
def test_a_job_id_past_any_bigint_is_a_404_with_the_caches_off(ci, pk, settings):
    settings.CLEARWAY_PROCESS_CACHES = False

    response = ci.get(f"/api/v1/jobs/{pk}/gate")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"

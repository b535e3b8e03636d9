"""POST /api/v1/jobs/{id}/runs, /runs/{run}/heartbeat, /finish, /stop: CI reports its work.

The clock starts at 2030-12-01 09:00 UTC; the job is approved on grading-db for
2030-12-10 08:00-12:00 UTC (tests.workflow.approved_job).
"""

import pytest

from operations.models import Run
from tests import builders
from tests.builders import at
from tests.ci.clients import bearer, token_for
from tests.personas import as_user
from tests.workflow import approved_job

pytestmark = pytest.mark.django_db


def start(client, job, **headers):
    return client.post(f"/api/v1/jobs/{job.pk}/runs", **headers)


def heartbeat(client, job, run_id):
    return client.post(f"/api/v1/jobs/{job.pk}/runs/{run_id}/heartbeat")


def finish(client, job, run_id, outcome="succeeded", note=""):
    return client.post(
        f"/api/v1/jobs/{job.pk}/runs/{run_id}/finish",
        {"outcome": outcome, "note": note},
        format="json",
    )


@pytest.fixture
def job(requester, reviewer):
    return approved_job(requester=requester, reviewer=reviewer)


def test_a_run_started_inside_the_window_is_recorded_with_its_window(pipeline, job, clock):
    clock.move_to(at(10, 9))

    response = start(pipeline, job)

    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "running"
    assert body["window"] == {
        "start": "2030-12-10T08:00:00+00:00",
        "end": "2030-12-10T12:00:00+00:00",
    }
    assert Run.objects.get(pk=body["id"]).job_id == job.pk


def test_start_heartbeat_finish_end_to_end(pipeline, job, clock):
    clock.move_to(at(10, 9))
    run_id = start(pipeline, job).json()["id"]
    clock.move_to(at(10, 9, 5))

    beat = heartbeat(pipeline, job, run_id)
    clock.move_to(at(10, 10))
    done = finish(pipeline, job, run_id, note="reindexed 3 tables")

    assert beat.status_code == 200
    assert beat.json()["stop"] is False
    assert beat.json()["run"]["last_heartbeat_at"] == "2030-12-10T09:05:00+00:00"
    assert done.status_code == 200
    assert done.json()["status"] == "succeeded"
    assert done.json()["finished_at"] == "2030-12-10T10:00:00+00:00"
    assert done.json()["note"] == "reindexed 3 tables"


def test_outside_the_window_the_start_answers_423_with_the_gates_reasons(pipeline, job, clock):
    clock.move_to(at(9, 9))

    response = start(pipeline, job)

    assert response.status_code == 423
    assert response.json()["code"] == "gate_closed"
    assert [r["code"] for r in response.json()["reasons"]] == ["outside_window"]
    assert not Run.objects.exists()


def test_a_retried_start_with_the_same_idempotency_key_creates_one_run(pipeline, job, clock):
    clock.move_to(at(10, 9))

    first = start(pipeline, job, HTTP_IDEMPOTENCY_KEY="pipeline-812")
    retry = start(pipeline, job, HTTP_IDEMPOTENCY_KEY="pipeline-812")

    assert first.status_code == 201
    # The Idempotency-Key middleware replays the first answer as it was.
    assert retry.status_code == 201
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.json()["id"] == first.json()["id"]
    assert Run.objects.count() == 1


def test_a_retried_start_returns_the_first_run_even_after_the_window_closed(pipeline, job, clock):
    clock.move_to(at(10, 11, 59))
    first = start(pipeline, job, HTTP_IDEMPOTENCY_KEY="pipeline-812")
    clock.move_to(at(10, 12, 1))

    retry = start(pipeline, job, HTTP_IDEMPOTENCY_KEY="pipeline-812")

    assert retry.status_code == 201
    assert retry.json()["id"] == first.json()["id"]


def test_a_start_refused_before_the_window_runs_when_retried_with_its_key_inside_it(
    pipeline, job, clock
):
    # A retried CI job keeps its pipeline id, so the recipe's key: a closed
    # gate changed nothing and must not be replayed once the window opens.
    clock.move_to(at(10, 7, 55))
    refused = start(pipeline, job, HTTP_IDEMPOTENCY_KEY="812-job")
    clock.move_to(at(10, 8, 5))

    retry = start(pipeline, job, HTTP_IDEMPOTENCY_KEY="812-job")

    assert refused.status_code == 423
    assert retry.status_code == 201
    assert Run.objects.count() == 1


def test_different_idempotency_keys_are_different_runs(pipeline, job, clock):
    clock.move_to(at(10, 9))

    start(pipeline, job, HTTP_IDEMPOTENCY_KEY="a")
    start(pipeline, job, HTTP_IDEMPOTENCY_KEY="b")

    assert Run.objects.count() == 2


def test_finishing_twice_with_the_same_outcome_changes_nothing(pipeline, job, clock):
    clock.move_to(at(10, 9))
    run_id = start(pipeline, job).json()["id"]
    finish(pipeline, job, run_id, "failed")
    clock.move_to(at(10, 10))

    again = finish(pipeline, job, run_id, "failed")

    assert again.status_code == 200
    assert again.json()["finished_at"] == "2030-12-10T09:00:00+00:00"


def test_finishing_with_another_outcome_is_a_conflict(pipeline, job, clock):
    clock.move_to(at(10, 9))
    run_id = start(pipeline, job).json()["id"]
    finish(pipeline, job, run_id, "failed")

    response = finish(pipeline, job, run_id, "succeeded")

    assert response.status_code == 409
    assert response.json()["code"] == "conflict"


def test_an_unknown_outcome_is_a_400_naming_the_field(pipeline, job, clock):
    clock.move_to(at(10, 9))
    run_id = start(pipeline, job).json()["id"]

    response = finish(pipeline, job, run_id, "exploded")

    assert response.status_code == 400
    assert "outcome" in response.json()["errors"]


def test_a_heartbeat_after_the_finish_answers_stop(pipeline, job, clock):
    clock.move_to(at(10, 9))
    run_id = start(pipeline, job).json()["id"]
    finish(pipeline, job, run_id, "aborted")

    response = heartbeat(pipeline, job, run_id)

    assert response.status_code == 200
    assert response.json()["stop"] is True


def test_a_run_of_another_job_is_not_found(pipeline, job, requester, reviewer, clock):
    other = approved_job(requester=requester, reviewer=reviewer, start=at(11, 8))
    clock.move_to(at(10, 9))
    run_id = start(pipeline, job).json()["id"]

    response = heartbeat(pipeline, other, run_id)

    assert response.status_code == 404


def test_a_token_without_the_jobs_run_scope_cannot_report_runs(org, job, clock):
    clock.move_to(at(10, 9))
    reader = bearer(token_for(org["infra"], "gate:read"))

    response = start(reader, job)

    assert response.status_code == 403
    assert "jobs:run" in response.json()["message"]


def test_another_teams_token_cannot_report_runs_of_the_job(org, job, clock):
    clock.move_to(at(10, 9))
    grading_pipeline = bearer(token_for(org["grading"], "jobs:run"))

    response = start(grading_pipeline, job)

    assert response.status_code == 403
    assert not Run.objects.exists()


def test_a_member_of_the_jobs_team_can_report_a_run_when_signed_in(requester, job, clock):
    clock.move_to(at(10, 9))

    response = start(as_user(requester), job)

    assert response.status_code == 201


def test_a_stop_asked_by_a_reviewer_reaches_the_next_heartbeat(pipeline, job, reviewer, clock):
    clock.move_to(at(10, 9))
    run_id = start(pipeline, job).json()["id"]

    asked = as_user(reviewer).post(
        f"/api/v1/jobs/{job.pk}/runs/{run_id}/stop",
        {"reason": "Grade writes are timing out"},
        format="json",
    )
    beat = heartbeat(pipeline, job, run_id)

    assert asked.status_code == 200
    assert beat.json()["stop"] is True
    assert beat.json()["reason"] == "Grade writes are timing out"
    assert beat.json()["run"]["stop_requested_by"] == "bob"


def test_an_outsider_cannot_ask_a_run_to_stop(pipeline, job, outsider, clock):
    clock.move_to(at(10, 9))
    run_id = start(pipeline, job).json()["id"]

    response = as_user(outsider).post(
        f"/api/v1/jobs/{job.pk}/runs/{run_id}/stop", {"reason": "why not"}, format="json"
    )

    assert response.status_code == 403
    assert heartbeat(pipeline, job, run_id).json()["stop"] is False


def test_an_admin_can_ask_a_run_to_stop(pipeline, job, admin, clock):
    clock.move_to(at(10, 9))
    run_id = start(pipeline, job).json()["id"]

    response = as_user(admin).post(
        f"/api/v1/jobs/{job.pk}/runs/{run_id}/stop", {"reason": "Incident 42"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["stop_requested"] is True


def test_a_stop_request_needs_a_reason(pipeline, job, reviewer, clock):
    clock.move_to(at(10, 9))
    run_id = start(pipeline, job).json()["id"]

    response = as_user(reviewer).post(
        f"/api/v1/jobs/{job.pk}/runs/{run_id}/stop", {"reason": "  "}, format="json"
    )

    assert response.status_code == 400
    assert "reason" in response.json()["errors"]


def test_a_long_idempotency_key_still_names_one_run(pipeline, job, clock):
    clock.move_to(at(10, 9))
    key = "k" * 250

    first = start(pipeline, job, HTTP_IDEMPOTENCY_KEY=key)
    again = start(pipeline, job, HTTP_IDEMPOTENCY_KEY=key)

    assert (first.status_code, again.status_code) == (201, 201)
    assert Run.objects.count() == 1


def test_a_cancelled_jobs_run_is_told_to_stop_at_its_next_heartbeat(
    pipeline, job, requester, clock
):
    clock.move_to(at(10, 9))
    run_id = start(pipeline, job).json()["id"]

    as_user(requester).post(f"/api/v1/jobs/{job.pk}/cancel", {"reason": "Not tonight"})
    beat = heartbeat(pipeline, job, run_id)

    assert beat.json()["stop"] is True
    assert "cancelled" in beat.json()["reason"]


def test_a_run_whose_job_a_refusal_took_out_of_approval_is_told_to_stop(
    pipeline, job, clock, django_capture_on_commit_callbacks
):
    clock.move_to(at(10, 9))
    run_id = start(pipeline, job).json()["id"]

    with django_capture_on_commit_callbacks(execute=True):  # its re-evaluation
        builders.blackout(start=at(10, 10), end=at(10, 11), systems=["grading-db"])
    beat = heartbeat(pipeline, job, run_id)

    assert beat.json()["stop"] is True
    assert "conflicted" in beat.json()["reason"]


@pytest.mark.parametrize("path", ["runs", "runs/1/heartbeat", "runs/1/finish", "runs/1/stop"])
def test_a_job_id_of_thousands_of_digits_is_a_json_404(pipeline, path):
    response = pipeline.post(f"/api/v1/jobs/{'9' * 5000}/{path}")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"

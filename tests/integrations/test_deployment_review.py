"""A deployment protection rule answered with the gate: approve, reject, or wait for the window.

The clock starts at 2030-12-01 09:00 UTC; the approved job is on grading-db,
2030-12-10 08:00-12:00 UTC, unless said otherwise.
"""

import pytest

from integrations.models import DeploymentReview, GitHubEnvironmentMapping
from scheduling.models import System
from scheduling.services.freeze import freeze_set
from scheduling.services.transitions import maintenance_job_cancel
from tests import builders
from tests.builders import at
from tests.integrations.conftest import APP_ID, protection_rule
from tests.workflow import approved_job, pending_job

pytestmark = pytest.mark.django_db


@pytest.fixture
def job(requester, reviewer):
    return approved_job(requester=requester, reviewer=reviewer)


def github_events(job) -> list[str]:
    return [e.action for e in job.history.all() if e.action.startswith("github_")]


def test_inside_the_window_the_deployment_is_approved(receive, github, job, clock):
    clock.move_to(at(10, 9))

    answer = receive(protection_rule(github, job=job, run_id=77))

    assert answer.status_code == 200
    [review] = github.reviews()
    assert review["environment_name"] == "production"
    assert review["state"] == "approved"
    assert f"https://clearway.example.org/jobs/{job.pk}/" in review["comment"]
    assert github.callbacks[0]["run_id"] == "77"
    assert github_events(job) == ["github_approved"]


def test_the_app_authenticates_with_an_rs256_jwt_for_the_installation(receive, github, job, clock):
    clock.move_to(at(10, 9))

    receive(protection_rule(github, job=job))

    [request] = github.token_requests
    assert request["installation"] == "555"
    assert request["claims"]["iss"] == APP_ID


def test_after_the_window_the_deployment_is_rejected_with_the_reasons(receive, github, job, clock):
    clock.move_to(at(10, 13))

    receive(protection_rule(github, job=job))

    [review] = github.reviews()
    assert review["state"] == "rejected"
    assert f"Every booked window of job #{job.pk} has ended." in review["comment"]
    assert f"/jobs/{job.pk}/" in review["comment"]
    assert github_events(job) == ["github_rejected"]


def test_a_job_still_in_review_is_rejected_naming_the_reviewers(receive, github, requester, clock):
    job = pending_job(requester=requester)
    clock.move_to(at(10, 9))

    receive(protection_rule(github, job=job))

    [review] = github.reviews()
    assert review["state"] == "rejected"
    assert "waiting for review by grading" in review["comment"]


def test_a_freeze_inside_the_window_rejects_the_deployment(receive, github, job, admin, clock):
    clock.move_to(at(10, 9))
    freeze_set(active=True, reason="Exam week", by=admin)

    receive(protection_rule(github, job=job))

    [review] = github.reviews()
    assert review["state"] == "rejected"
    assert "Exam week" in review["comment"]


def test_before_the_window_the_deployment_waits_and_is_approved_when_it_opens(
    receive, sweep, github, job, clock
):
    receive(protection_rule(github, job=job))

    [waiting] = github.reviews()
    assert "state" not in waiting
    assert "when the job's window opens" in waiting["comment"]
    assert DeploymentReview.objects.get().state == "waiting"

    clock.move_to(at(10, 7, 59))
    assert sweep() == 0
    clock.move_to(at(10, 8))
    assert sweep() == 1

    assert [r.get("state") for r in github.reviews()] == [None, "approved"]
    assert github_events(job) == ["github_waiting", "github_approved"]


def test_a_deadline_landing_before_the_window_rejects_the_waiting_deployment(
    receive, sweep, github, job, clock, django_capture_on_commit_callbacks
):
    receive(protection_rule(github, job=job))
    with django_capture_on_commit_callbacks(execute=True):
        builders.deadline(due=at(10, 23, 59), cohort_size=2000, systems=["grading-api"])
    job.refresh_from_db()
    assert job.status == "conflicted"

    sweep()

    review = github.reviews()[-1]
    assert review["state"] == "rejected"
    assert "Project 3" in review["comment"]
    assert DeploymentReview.objects.get().state == "rejected"
    assert github_events(job)[-1] == "github_rejected"


def test_a_job_cancelled_while_waiting_rejects_the_deployment(
    receive, sweep, github, job, requester, clock
):
    receive(protection_rule(github, job=job))
    maintenance_job_cancel(job_id=job.pk, by=requester)

    sweep()

    review = github.reviews()[-1]
    assert review["state"] == "rejected"
    assert "cancelled" in review["comment"]


def test_a_window_that_passed_unseen_rejects_the_waiting_deployment(
    receive, sweep, github, job, clock
):
    receive(protection_rule(github, job=job))
    clock.move_to(at(10, 12))

    sweep()

    review = github.reviews()[-1]
    assert review["state"] == "rejected"
    assert "passed" in review["comment"]


def test_a_deployment_naming_no_job_and_no_mapping_is_rejected(receive, github, org, clock):
    receive(protection_rule(github))

    [review] = github.reviews()
    assert review["state"] == "rejected"
    assert "clearway_job" in review["comment"]


def test_a_deployment_naming_a_missing_job_is_rejected(receive, github, org, clock):
    receive(protection_rule(github, deployment_payload={"clearway_job": 999999}))

    [review] = github.reviews()
    assert review["state"] == "rejected"
    assert "#999999, which does not exist" in review["comment"]


def test_a_payload_given_as_a_json_string_names_the_job(receive, github, job, clock):
    clock.move_to(at(10, 9))

    receive(protection_rule(github, deployment_payload=f'{{"clearway_job": "{job.pk}"}}'))

    assert github.reviews()[0]["state"] == "approved"


def map_environment(*systems: str) -> GitHubEnvironmentMapping:
    mapping = GitHubEnvironmentMapping.objects.create(
        repository="uni/grading", environment="production"
    )
    mapping.systems.set(System.objects.filter(slug__in=systems))
    return mapping


def test_a_mapped_environment_finds_the_job_whose_window_is_open(receive, github, job, clock):
    map_environment("grading-db")
    clock.move_to(at(10, 9))

    receive(protection_rule(github))

    [review] = github.reviews()
    assert review["state"] == "approved"
    assert DeploymentReview.objects.get().job == job
    assert github_events(job) == ["github_approved"]


def test_a_mapped_environment_with_no_open_window_is_rejected(receive, github, job, clock):
    map_environment("grading-db")

    receive(protection_rule(github))

    [review] = github.reviews()
    assert review["state"] == "rejected"
    assert "No approved job on grading-db has a window open now" in review["comment"]


def test_a_named_job_outside_the_mapped_systems_is_rejected(receive, github, job, clock):
    map_environment("reports-db")
    clock.move_to(at(10, 9))

    receive(protection_rule(github, job=job))

    [review] = github.reviews()
    assert review["state"] == "rejected"
    assert "touches none of the systems mapped" in review["comment"]


def test_one_schedule_sweeps_every_waiting_review(receive, sweep, github, requester, reviewer):
    from django_q.models import Schedule

    from integrations.tasks import process_deployment_reviews

    for run_id, start in ((1, at(10, 8)), (2, at(11, 8))):
        job = approved_job(requester=requester, reviewer=reviewer, start=start)
        receive(protection_rule(github, job=job, run_id=run_id))

    assert (
        Schedule.objects.filter(func="integrations.tasks.process_deployment_reviews").count() == 1
    )
    assert DeploymentReview.objects.filter(state="waiting").count() == 2
    assert process_deployment_reviews() == 0


def test_the_audit_entry_names_the_repository_and_the_answer(receive, github, job, clock):
    clock.move_to(at(10, 9))

    receive(protection_rule(github, job=job))

    [event] = [e for e in job.history.all() if e.action == "github_approved"]
    assert "uni/grading → production" in event.reason
    assert "approved" in event.reason
    assert event.actor is None


def test_two_open_jobs_on_the_mapped_systems_pick_the_earlier_started_one(
    receive, github, requester, reviewer, clock
):
    # reports-db is infra's own: nobody else reviews, so it is approved at once.
    later = pending_job(requester=requester, systems=("reports-db",), start=at(10, 9))
    assert later.status == "approved"
    earlier = approved_job(requester=requester, reviewer=reviewer, start=at(10, 8))
    map_environment("grading-db", "reports-db")
    clock.move_to(at(10, 10))

    receive(protection_rule(github))

    assert DeploymentReview.objects.get().job == earlier
    assert github.reviews()[0]["state"] == "approved"
    assert github_events(later) == []

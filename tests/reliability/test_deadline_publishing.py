"""High 1: one publishing rule for deadlines, and what a published deadline may say.

Curriculum staff publish for their own curriculum team; administrators for
any team. The API, the pages, uploads and feeds hold to it. A deadline's
team is asked to review a job only when the deadline flags it; a refusing
deadline refuses by itself and gives its team no veto.
"""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from deadlines.feeds.sync import feed_sync
from deadlines.models import Deadline, DeadlineFeed
from scheduling.models import ReviewRequest
from tests import builders
from tests.builders import at
from tests.personas import as_user
from tests.workflow import approved_job, book, pending_job

pytestmark = pytest.mark.django_db

DEADLINE = {
    "title": "Project 3",
    "cohort_size": 2000,
    "due": "2030-12-12T23:59:00Z",
    "systems": ["grading-api"],
}
CSV = b"title,cohort_size,due\nProject 3,2000,2030-12-12T23:59:00Z\n"


def test_an_infra_engineer_cannot_publish_a_deadline_for_their_own_team(requester):
    answer = as_user(requester).post(
        "/api/v1/deadlines", {**DEADLINE, "team": "infra"}, format="json"
    )

    assert answer.status_code == 403
    assert answer.json()["code"] == "forbidden"
    assert not Deadline.objects.exists()


def test_curriculum_staff_in_another_team_too_cannot_publish_for_that_team(curriculum_staff, org):
    org["infra"].members.add(curriculum_staff)

    answer = as_user(curriculum_staff).post(
        "/api/v1/deadlines", {**DEADLINE, "team": "infra"}, format="json"
    )

    assert answer.status_code == 403
    assert not Deadline.objects.exists()


def test_an_administrator_publishes_for_any_team(admin):
    answer = as_user(admin).post("/api/v1/deadlines", {**DEADLINE, "team": "exams"}, format="json")

    assert answer.status_code == 201, answer.json()


def test_an_infra_engineer_cannot_upload_deadlines(requester):
    answer = as_user(requester).post(
        "/api/v1/deadlines/upload",
        {"file": SimpleUploadedFile("d.csv", CSV), "team": "infra"},
        format="multipart",
    )

    assert answer.status_code == 403
    assert not Deadline.objects.exists()


def test_an_infra_engineer_cannot_add_a_deadline_feed(requester):
    answer = as_user(requester).post(
        "/api/v1/deadline-feeds",
        {"url": "https://lms.example.edu/a.ics", "team": "infra", "cohort_size": 2000},
        format="json",
    )

    assert answer.status_code == 403
    assert not DeadlineFeed.objects.exists()


def test_an_infra_engineer_cannot_publish_through_the_web_form(requester):
    client = Client()
    client.force_login(requester)

    answer = client.post(
        "/deadlines/new/",
        {"title": "Project 3", "team": "infra", "cohort_size": 2000, "due": "2030-12-12T23:59"},
    )

    assert answer.status_code == 403
    assert not Deadline.objects.exists()


def test_a_feed_of_a_non_curriculum_team_added_before_the_rule_publishes_nothing(org, clock):
    legacy = DeadlineFeed.objects.create(
        team=org["infra"],
        url="http://127.0.0.1:9/never-fetched.ics",
        cohort_size=2000,
        interval=timedelta(hours=1),
        next_sync_at=at(1, 9),
    )

    result = feed_sync(feed_id=legacy.pk)

    legacy.refresh_from_db()
    assert not result.ok
    assert "curriculum" in legacy.last_error
    assert not Deadline.objects.exists()


def test_a_refusing_deadline_refuses_the_job_without_asking_its_team_to_review(
    requester, reviewer, django_capture_on_commit_callbacks
):
    job = approved_job(requester=requester, reviewer=reviewer)

    with django_capture_on_commit_callbacks(execute=True):
        builders.deadline(due=at(10, 23), cohort_size=5000, systems=["grading-api"])

    job.refresh_from_db()
    assert job.status == "conflicted"
    assert not ReviewRequest.objects.filter(job=job, team__slug="curriculum").exists()


def test_a_flagging_deadline_asks_its_team_to_review(requester, org):
    builders.deadline(due=at(10, 23), cohort_size=300, systems=["grading-api"])

    job = pending_job(requester=requester)

    assert job.decision == "flag"
    assert ReviewRequest.objects.filter(job=job, team__slug="curriculum").exists()


def test_a_deadline_that_refuses_a_draft_gives_its_team_no_review_on_override(requester, org):
    builders.deadline(due=at(10, 23), cohort_size=5000, systems=["grading-api"])
    client = as_user(requester)
    job = book(client, emergency=True, justification="The disk is failing.")

    submitted = client.post(f"/api/v1/jobs/{job['id']}/submit", format="json").json()

    teams = sorted(review["team"] for review in submitted["reviews"])
    assert "curriculum" not in teams
    assert "platform" in teams


def test_the_admin_cannot_add_or_change_a_deadline_around_the_deadline_services(admin, org):
    """Saved on the model, an admin's deadline was never range-checked, kept to one
    line, or announced, so the jobs it should flag were not re-evaluated."""
    deadline = (
        as_user(admin)
        .post("/api/v1/deadlines", {**DEADLINE, "team": "curriculum"}, format="json")
        .json()
    )
    superuser = get_user_model().objects.create_superuser("root", "root@example.org", "pw")
    client = Client()
    client.force_login(superuser)

    add = client.get("/admin/deadlines/deadline/add/")
    change = client.get(f"/admin/deadlines/deadline/{deadline['id']}/change/")

    assert add.status_code == 403
    assert change.status_code == 200
    assert 'name="due' not in change.content.decode()
    assert 'name="title"' not in change.content.decode()

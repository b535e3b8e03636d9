"""The incident, end to end through the API: an approved job, then a deadline."""

import pytest
import time_machine
from django.core import mail
from rest_framework.test import APIClient

from scheduling.models import Delivery
from tests import builders
from tests.builders import at

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def people(grading_stack):
    curriculum = builders.team("curriculum", name="Curriculum")
    return {
        "alice": builders.user("alice", team=grading_stack["infra"]),
        "bob": builders.user("bob", team=grading_stack["grading"]),
        "carol": builders.user("carol", team=curriculum),
    }


def as_user(person) -> APIClient:
    client = APIClient()
    client.force_authenticate(person)
    return client


def test_a_deadline_published_after_approval_takes_the_job_out_of_approval(people, grading_stack):
    alice, bob, carol = as_user(people["alice"]), as_user(people["bob"]), as_user(people["carol"])
    with time_machine.travel(at(1, 9), tick=False):
        booked = alice.post(
            "/api/v1/jobs",
            {
                "title": "Quarterly grading-db optimisation",
                "team": "infra",
                "systems": ["grading-db"],
                "start": "2030-12-11T08:00:00",
                "end": "2030-12-11T14:00:00",
                "timezone": "Europe/London",
                "impact": "exclusive_lock",
            },
            format="json",
        )
        assert booked.status_code == 201, booked.json()
        job_id = booked.json()["id"]
        assert booked.json()["decision"] == "clear"

        submitted = alice.post(f"/api/v1/jobs/{job_id}/submit", format="json")
        assert submitted.json()["status"] == "pending"
        assert [r["team"] for r in submitted.json()["reviews"]] == ["grading"]

        approved = bob.post(f"/api/v1/jobs/{job_id}/approve", {"team": "grading"}, format="json")
        assert approved.json()["status"] == "approved"

        mail.outbox.clear()
        published = carol.post(
            "/api/v1/deadlines",
            {
                "title": "Project 3",
                "course": "CS201",
                "cohort": "CS 2026",
                "cohort_size": 2000,
                "due": "2030-12-12T23:59:00Z",
                "systems": ["grading-api", "submissions-web"],
                "team": "curriculum",
            },
            format="json",
        )
        assert published.status_code == 201, published.json()

    job = alice.get(f"/api/v1/jobs/{job_id}").json()
    assert job["status"] == "conflicted"
    assert job["decision"] == "refuse"
    assert "Project 3" in job["findings"][0]["message"]
    assert job["history"][-1]["action"] == "conflicted"
    assert job["history"][-1]["actor"] == "system"
    assert "Project 3" in job["history"][-1]["reason"]
    told = {m.to[0] for m in mail.outbox if "no longer approved" in m.subject}
    assert told == {"infra@example.org", "grading@example.org"}
    assert Delivery.objects.filter(event="conflicted", status="sent").count() == 2


def test_submitting_into_a_refused_window_answers_409_with_next_clear(people):
    alice = as_user(people["alice"])
    with time_machine.travel(at(1, 9), tick=False):
        builders.deadline(due=at(12, 23, 59), cohort_size=2000, systems=["grading-api"])
        job_id = alice.post(
            "/api/v1/jobs",
            {
                "title": "Reindex",
                "team": "infra",
                "systems": ["grading-db"],
                "start": "2030-12-12T08:00:00Z",
                "end": "2030-12-12T12:00:00Z",
                "impact": "exclusive_lock",
            },
            format="json",
        ).json()["id"]

        refused = alice.post(f"/api/v1/jobs/{job_id}/submit", format="json")

    assert refused.status_code == 409
    body = refused.json()
    assert body["code"] == "refused"
    assert body["decision"] == "refuse"
    assert body["findings"][0]["kind"] == "deadline"
    assert body["next_clear"], "a refused job is offered the next clear windows"
    first = body["next_clear"][0]
    assert first["start"] >= "2030-12-13T05:59"
    assert alice.get(f"/api/v1/jobs/{job_id}").json()["status"] == "draft"

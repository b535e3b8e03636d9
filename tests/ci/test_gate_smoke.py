import pytest
import time_machine
from rest_framework.test import APIClient

from scheduling.services.submission import maintenance_job_submit
from scheduling.services.tokens import api_token_create
from tests import builders
from tests.builders import at

pytestmark = pytest.mark.django_db(transaction=True)


def test_gate_opens_inside_an_approved_window_and_closes_when_a_deadline_lands(grading_stack):
    infra = grading_stack["infra"]
    alice = builders.user("alice", team=infra)
    builders.user("bob", team=grading_stack["grading"])
    _, secret = api_token_create(team=infra, name="deploy", scopes=["gate:read"])
    ci = APIClient(HTTP_AUTHORIZATION=f"Bearer {secret}")
    with time_machine.travel(at(1), tick=False):
        job = builders.job(systems=["grading-db"], start=at(10, 8), owner=infra, by=alice)
        maintenance_job_submit(job_id=job.pk, by=alice)
        from scheduling.services.reviews import maintenance_job_review

        bob = builders.user("bob2", team=grading_stack["grading"])
        maintenance_job_review(job_id=job.pk, team="grading", by=bob, approve=True)

    with time_machine.travel(at(10, 9), tick=False):
        inside = ci.get(f"/api/v1/jobs/{job.pk}/gate")
        assert inside.status_code == 200, inside.json()
        assert inside.json()["allowed"] is True
        outside = ci.get(f"/api/v1/jobs/{job.pk}/gate?at=2030-12-10T13:00:00Z")
        assert outside.status_code == 423
        assert outside.json()["reasons"][0]["code"] == "outside_window"

        builders.deadline(due=at(11, 23, 59), cohort_size=2000, systems=["grading-api"])
        closed = ci.get(f"/api/v1/jobs/{job.pk}/gate")
    assert closed.status_code == 423
    codes = {r["code"] for r in closed.json()["reasons"]}
    assert "conflicted" in codes

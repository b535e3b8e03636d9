"""Whoever re-submits a job by moving it (a new review round) is one of its requesters.

A move of an approved job records `resubmitted`; a move of a pending job opens a new
round with only its `rescheduled` entry, which names the mover (and their token) too:
either way the mover may not review it from another team.
"""

import pytest

from scheduling.models import ReviewRequest
from scheduling.services.catalogue import team_update
from scheduling.services.tokens import api_token_create
from tests.ci.clients import bearer
from tests.personas import as_user
from tests.workflow import approved_job, pending_job

pytestmark = pytest.mark.django_db

MOVED = {"start": "2030-12-11T08:00:00Z", "end": "2030-12-11T12:00:00Z"}


def _colleague_moves_to_grading(org, requester, colleague):
    team_update(team=org["infra"], members=[requester])
    team_update(team=org["grading"], members=[*org["grading"].members.all(), colleague])


def _move(job, colleague):
    answer = as_user(colleague).patch(f"/api/v1/jobs/{job.pk}", MOVED, format="json")
    assert answer.status_code == 200, answer.json()
    assert answer.json()["status"] == "pending"
    return answer.json()


def test_who_moved_an_approved_job_back_to_review_cannot_approve_it(
    org, requester, colleague, reviewer
):
    job = approved_job(requester=requester, reviewer=reviewer)
    _move(job, colleague)
    _colleague_moves_to_grading(org, requester, colleague)

    answer = as_user(colleague).post(f"/api/v1/jobs/{job.pk}/approve", {"team": "grading"})

    assert answer.status_code == 403


def test_who_moved_a_pending_job_into_a_new_round_cannot_approve_it(
    org, requester, colleague, reviewer
):
    job = pending_job(requester=requester)
    round_before = job.review_round
    body = _move(job, colleague)
    job.refresh_from_db()
    assert job.review_round == round_before + 1  # the move re-submitted it: a new round
    _colleague_moves_to_grading(org, requester, colleague)

    answer = as_user(colleague).post(f"/api/v1/jobs/{job.pk}/approve", {"team": "grading"})

    assert answer.status_code == 403, body["history"][-3:]
    assert (
        ReviewRequest.objects.get(job=job, team__slug="grading", round=job.review_round).status
        == "pending"
    )


def test_who_moved_a_pending_job_through_their_token_cannot_approve_it(org, requester, colleague):
    job = pending_job(requester=requester)
    _, secret = api_token_create(
        team=org["infra"], name="ci", scopes=["gate:read", "jobs:write"], by=colleague
    )
    moved = bearer(secret).patch(f"/api/v1/jobs/{job.pk}", MOVED, format="json")
    assert moved.status_code == 200, moved.json()
    _colleague_moves_to_grading(org, requester, colleague)

    answer = as_user(colleague).post(f"/api/v1/jobs/{job.pk}/approve", {"team": "grading"})

    assert answer.status_code == 403

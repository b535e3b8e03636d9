"""Medium: who may approve an override, and who gets a say over an overlapping job.

- An emergency override is approved by someone other than its requester,
  also when the requester is an administrator.
- Whoever booked or submitted a job, in person or through a token they made,
  never reviews it, also after moving to a team asked to review it.
- Only approved bookings give their team a review or a refusal; a pending
  overlap is shown as a flag, and the first of the two approved wins.
"""

import pytest

from scheduling.errors import NotAllowed
from scheduling.models import ReviewRequest
from scheduling.services.catalogue import team_update
from scheduling.services.reviews import maintenance_job_review
from scheduling.services.tokens import api_token_create
from tests import builders
from tests.builders import at
from tests.ci.clients import bearer
from tests.personas import as_user
from tests.workflow import approved_job, book, job_body, pending_job

pytestmark = pytest.mark.django_db


@pytest.fixture
def refusing_deadline(org):
    return builders.deadline(due=at(10, 23), cohort_size=5000, systems=["grading-api"])


def override_by(person, team="platform"):
    client = as_user(person)
    job = book(client, team=team)
    answer = client.post(
        f"/api/v1/jobs/{job['id']}/submit",
        {"emergency": True, "justification": "The disk is failing."},
        format="json",
    )
    assert answer.status_code == 200, answer.json()
    return answer.json()


def test_an_administrators_override_still_needs_an_administrators_review(admin, refusing_deadline):
    job = override_by(admin)

    assert job["status"] == "pending"
    assert "platform" in [review["team"] for review in job["reviews"]]


def test_the_requester_cannot_approve_their_own_override(admin, refusing_deadline):
    job = override_by(admin)

    answer = as_user(admin).post(f"/api/v1/jobs/{job['id']}/approve", {"team": "platform"})

    assert answer.status_code == 403
    assert ReviewRequest.objects.get(job_id=job["id"], team__slug="platform").status == "pending"


def minted_by(person, *, team: str):
    """A team token `person` makes for `team`, as a client."""
    made = as_user(person).post(
        "/api/v1/api-tokens",
        {"name": "mine", "team": team, "scopes": ["gate:read", "jobs:write"]},
        format="json",
    )
    assert made.status_code == 201, made.json()
    return bearer(made.json()["token"])


def test_the_requester_cannot_approve_their_own_override_with_a_token_they_made(
    admin, refusing_deadline
):
    job = override_by(admin)

    answer = minted_by(admin, team="platform").post(
        f"/api/v1/jobs/{job['id']}/approve", {"team": "platform"}, format="json"
    )

    assert answer.status_code == 403
    assert ReviewRequest.objects.get(job_id=job["id"], team__slug="platform").status == "pending"


def test_an_override_is_not_approved_with_a_team_token_even_another_administrators(
    admin, org, refusing_deadline
):
    other = builders.user("quinn", team=org["platform"], staff=True)
    job = override_by(admin)

    answer = minted_by(other, team="platform").post(
        f"/api/v1/jobs/{job['id']}/approve", {"team": "platform"}, format="json"
    )

    assert answer.status_code == 403
    assert "in person" in answer.json()["message"]


def test_a_member_of_the_requesting_team_cannot_review_with_a_token_of_the_other_team(
    org, requester, reviewer
):
    """The API shows a token only its own team's jobs; the rule holds below it too."""
    both = builders.user("gina", team=org["grading"])
    org["infra"].members.add(both)
    job = pending_job(requester=requester)  # infra's job, waiting for grading
    token, _ = api_token_create(
        team=org["grading"], name="gina's", scopes=["gate:read", "jobs:write"], by=both
    )

    with pytest.raises(NotAllowed):
        maintenance_job_review(
            job_id=job.pk, team="grading", by=token.user, approve=True, token=token
        )

    assert ReviewRequest.objects.get(job_id=job.pk, team__slug="grading").status == "pending"


def test_another_administrator_approves_the_override(
    admin, org, requester, reviewer, refusing_deadline
):
    other = builders.user("quinn", team=org["platform"], staff=True)
    job = override_by(admin)

    as_user(requester).post(f"/api/v1/jobs/{job['id']}/approve", {"team": "infra"})
    as_user(reviewer).post(f"/api/v1/jobs/{job['id']}/approve", {"team": "grading"})
    answer = as_user(other).post(f"/api/v1/jobs/{job['id']}/approve", {"team": "platform"})

    assert answer.status_code == 200, answer.json()
    assert answer.json()["status"] == "approved"


def test_a_pending_overlap_flags_but_asks_its_team_nothing(requester, reviewer):
    pending_job(requester=requester)  # alice's exclusive job on grading-db, waiting for grading
    bob = as_user(reviewer)
    job = book(bob, team="grading", systems=["grading-api"])

    submitted = bob.post(f"/api/v1/jobs/{job['id']}/submit", format="json").json()

    assert submitted["decision"] == "flag"
    assert [f["kind"] for f in submitted["findings"]] == ["maintenance"]
    assert "infra" not in [review["team"] for review in submitted["reviews"]]
    assert submitted["status"] == "approved"


def test_the_first_of_two_overlapping_jobs_approved_wins(
    requester, reviewer, django_capture_on_commit_callbacks
):
    first = pending_job(requester=requester)
    bob = as_user(reviewer)
    job = book(bob, team="grading", systems=["grading-api"])

    with django_capture_on_commit_callbacks(execute=True):
        second = bob.post(f"/api/v1/jobs/{job['id']}/submit", format="json").json()

    first.refresh_from_db()
    assert second["status"] == "approved"
    assert first.status == "conflicted"


def test_an_approved_overlap_still_refuses(requester, reviewer):
    approved_job(requester=requester, reviewer=reviewer)
    bob = as_user(reviewer)
    job = book(bob, team="grading", systems=["grading-api"])

    answer = bob.post(f"/api/v1/jobs/{job['id']}/submit", format="json")

    assert answer.status_code == 409
    assert answer.json()["decision"] == "refuse"


def moves_from_infra_to_grading(person, org, *, stays):
    """`person` leaves infra (where `stays` remains) and joins grading."""
    team_update(team=org["infra"], members=[stays])
    team_update(team=org["grading"], members=[*org["grading"].members.all(), person])


def infra_token_of(person, org):
    _, secret = api_token_create(
        team=org["infra"], name="ci", scopes=["gate:read", "jobs:write"], by=person
    )
    return bearer(secret)


def assert_still_waiting_for_grading(job_id):
    assert ReviewRequest.objects.get(job_id=job_id, team__slug="grading").status == "pending"


def test_who_booked_and_submitted_a_job_cannot_approve_it_from_their_new_team(
    org, requester, colleague, reviewer
):
    job = pending_job(requester=requester)  # infra's job, waiting for grading
    moves_from_infra_to_grading(requester, org, stays=colleague)

    answer = as_user(requester).post(f"/api/v1/jobs/{job.pk}/approve", {"team": "grading"})

    assert answer.status_code == 403
    assert_still_waiting_for_grading(job.pk)


def test_who_booked_and_submitted_a_job_cannot_reject_it_from_their_new_team(
    org, requester, colleague, reviewer
):
    job = pending_job(requester=requester)
    moves_from_infra_to_grading(requester, org, stays=colleague)

    answer = as_user(requester).post(
        f"/api/v1/jobs/{job.pk}/reject", {"team": "grading", "comment": "Not now."}
    )

    assert answer.status_code == 403
    assert_still_waiting_for_grading(job.pk)


def test_the_maker_of_the_token_that_booked_a_job_cannot_approve_it_from_their_new_team(
    org, requester, colleague, reviewer
):
    booked = infra_token_of(requester, org).post("/api/v1/jobs", job_body(), format="json")
    job = booked.json()["id"]
    assert as_user(colleague).post(f"/api/v1/jobs/{job}/submit").status_code == 200
    moves_from_infra_to_grading(requester, org, stays=colleague)

    answer = as_user(requester).post(f"/api/v1/jobs/{job}/approve", {"team": "grading"})

    assert answer.status_code == 403
    assert_still_waiting_for_grading(job)


def test_the_maker_of_the_token_that_submitted_a_job_cannot_approve_it_from_their_new_team(
    org, requester, colleague, reviewer
):
    job = book(as_user(colleague))["id"]
    assert infra_token_of(requester, org).post(f"/api/v1/jobs/{job}/submit").status_code == 200
    moves_from_infra_to_grading(requester, org, stays=colleague)

    answer = as_user(requester).post(f"/api/v1/jobs/{job}/approve", {"team": "grading"})

    assert answer.status_code == 403
    assert_still_waiting_for_grading(job)

"""A job's way through review, driven through the API the way its people use it."""

import pytest

from scheduling.models import MaintenanceJob, ReviewRequest
from tests import builders
from tests.builders import at
from tests.personas import as_user
from tests.workflow import approved_job, book, job_body, pending_job

# The background re-evaluation runs after commit; only the test that needs it
# pays for a transactional database.
pytestmark = pytest.mark.django_db


def review_teams(job: dict) -> list[str]:
    return sorted(review["team"] for review in job["reviews"])


# --- drafts ----------------------------------------------------------------


def test_a_new_job_is_a_draft_with_its_findings_at_once(requester):
    job = book(as_user(requester))

    assert job["status"] == "draft"
    assert job["decision"] == "clear"
    assert job["findings"] == []
    assert job["evaluated_at"] == "2030-12-01T09:00:00Z"
    assert job["impacted_systems"] == ["grading-api", "grading-db", "submissions-web"]
    assert job["reviews"] == []


def test_a_draft_can_be_edited_and_stays_a_draft(requester):
    alice = as_user(requester)
    job = book(alice)

    edited = alice.patch(
        f"/api/v1/jobs/{job['id']}",
        {"title": "Vacuum", "start": "2030-12-11T08:00:00Z", "end": "2030-12-11T10:00:00Z"},
        format="json",
    )

    assert edited.status_code == 200, edited.json()
    stored = alice.get(f"/api/v1/jobs/{job['id']}").json()
    assert (stored["title"], stored["start"], stored["end"], stored["status"]) == (
        "Vacuum",
        "2030-12-11T08:00:00Z",
        "2030-12-11T10:00:00Z",
        "draft",
    )
    assert stored["reviews"] == []


def test_editing_a_draft_into_a_blackout_shows_the_new_findings(requester, org):
    builders.blackout(start=at(11), end=at(12), title="Exam week")
    alice = as_user(requester)
    job = book(alice)

    alice.patch(
        f"/api/v1/jobs/{job['id']}",
        {"start": "2030-12-11T08:00:00Z", "end": "2030-12-11T10:00:00Z"},
        format="json",
    )

    stored = alice.get(f"/api/v1/jobs/{job['id']}").json()
    assert stored["status"] == "draft"
    assert stored["decision"] == "refuse"
    assert [f["title"] for f in stored["findings"]] == ["Exam week"]


# --- submit ----------------------------------------------------------------


def test_submitting_a_clear_job_asks_the_owners_of_the_impacted_systems(requester):
    alice = as_user(requester)
    job = book(alice)

    submitted = alice.post(f"/api/v1/jobs/{job['id']}/submit")

    assert submitted.status_code == 200, submitted.json()
    assert submitted.json()["status"] == "pending"
    # grading owns grading-api and submissions-web, which depend on grading-db;
    # infra owns grading-db but requested the job, so it does not review it.
    assert review_teams(submitted.json()) == ["grading"]
    assert {r["status"] for r in submitted.json()["reviews"]} == {"pending"}


def test_owners_of_transitive_dependents_are_asked(requester, org):
    portal = builders.team("portal", name="Student portal")
    builders.system("portal-web", owner=portal, depends_on=["submissions-web"])
    alice = as_user(requester)
    job = book(alice)

    submitted = alice.post(f"/api/v1/jobs/{job['id']}/submit").json()

    assert review_teams(submitted) == ["grading", "portal"]


def test_the_curriculum_team_behind_a_flagging_deadline_is_asked(requester, org):
    builders.deadline(due=at(10, 23), cohort_size=500, systems=["grading-api"])
    alice = as_user(requester)
    job = book(alice)

    submitted = alice.post(f"/api/v1/jobs/{job['id']}/submit").json()

    assert submitted["status"] == "pending"
    assert submitted["decision"] == "flag"
    assert review_teams(submitted) == ["curriculum", "grading"]


def test_the_owner_of_a_flag_blackout_is_asked(requester, org):
    builders.blackout(start=at(10), end=at(11), severity="flag", owner=org["exams"])
    alice = as_user(requester)
    job = book(alice)

    submitted = alice.post(f"/api/v1/jobs/{job['id']}/submit").json()

    assert submitted["decision"] == "flag"
    assert review_teams(submitted) == ["exams", "grading"]


def test_a_team_asked_for_two_reasons_gets_one_review_request(requester, org):
    builders.blackout(start=at(10), end=at(11), severity="flag", owner=org["grading"])
    alice = as_user(requester)
    job = book(alice)

    submitted = alice.post(f"/api/v1/jobs/{job['id']}/submit").json()

    [review] = submitted["reviews"]
    assert review["team"] == "grading"
    assert "owns grading-api" in review["reason"]
    assert "owns 'Blackout'" in review["reason"]


def test_a_clear_job_on_the_requesters_own_systems_is_approved_at_submit(requester):
    alice = as_user(requester)
    job = book(alice, systems=["reports-db"])

    submitted = alice.post(f"/api/v1/jobs/{job['id']}/submit").json()

    assert submitted["status"] == "approved"
    assert submitted["reviews"] == []
    assert [e["action"] for e in submitted["history"]] == ["created", "submitted", "approved"]


def test_a_refused_job_answers_409_with_findings_and_next_clear_and_stays_draft(requester, org):
    builders.deadline(due=at(10, 23), cohort_size=2000, systems=["grading-api"])
    alice = as_user(requester)
    job = book(alice)

    refused = alice.post(f"/api/v1/jobs/{job['id']}/submit")

    assert refused.status_code == 409
    body = refused.json()
    assert (body["code"], body["decision"]) == ("refused", "refuse")
    assert [f["kind"] for f in body["findings"]] == ["deadline"]
    assert body["next_clear"]
    assert all(slot["start"] >= "2030-12-11T05:00" for slot in body["next_clear"])
    assert alice.get(f"/api/v1/jobs/{job['id']}").json()["status"] == "draft"
    assert not ReviewRequest.objects.exists()


def test_an_emergency_without_justification_is_a_400_on_that_field(requester, org):
    builders.deadline(due=at(10, 23), cohort_size=2000, systems=["grading-api"])
    alice = as_user(requester)
    job = book(alice)

    answer = alice.post(
        f"/api/v1/jobs/{job['id']}/submit", {"emergency": True, "justification": " "}
    )

    assert answer.status_code == 400
    assert list(answer.json()["errors"]) == ["justification"]
    assert MaintenanceJob.objects.get(pk=job["id"]).status == "draft"


def test_a_justified_emergency_overrides_a_refusal_and_asks_the_administrators(
    requester, org, settings
):
    builders.deadline(due=at(10, 23), cohort_size=2000, systems=["grading-api"])
    alice = as_user(requester)
    job = book(alice)

    submitted = alice.post(
        f"/api/v1/jobs/{job['id']}/submit",
        {"emergency": True, "justification": "The disk is 98% full."},
        format="json",
    ).json()

    assert submitted["status"] == "pending"
    assert submitted["decision"] == "refuse"
    # The refusing deadline refuses by itself; its team gets no review (no veto).
    assert review_teams(submitted) == ["grading", settings.CLEARWAY_ADMIN_TEAM]
    override = [e for e in submitted["history"] if e["action"] == "emergency_override"]
    assert len(override) == 1
    assert override[0]["actor"] == "alice"
    assert override[0]["reason"] == "The disk is 98% full."
    assert override[0]["findings"][0]["kind"] == "deadline"


def test_an_overridden_emergency_is_approved_when_every_team_approves(
    requester, reviewer, admin, org
):
    builders.deadline(due=at(10, 23), cohort_size=2000, systems=["grading-api"])
    alice = as_user(requester)
    job = book(alice)
    alice.post(
        f"/api/v1/jobs/{job['id']}/submit",
        {"emergency": True, "justification": "The disk is 98% full."},
    )

    as_user(reviewer).post(f"/api/v1/jobs/{job['id']}/approve", {"team": "grading"})
    last = as_user(admin).post(f"/api/v1/jobs/{job['id']}/approve", {"team": "platform"})

    assert last.json()["status"] == "approved"


def test_an_emergency_that_is_not_refused_needs_no_administrator(requester, reviewer):
    alice = as_user(requester)
    job = book(alice)
    submitted = alice.post(
        f"/api/v1/jobs/{job['id']}/submit",
        {"emergency": True, "justification": "Security patch."},
    ).json()
    assert review_teams(submitted) == ["grading"]

    approved = as_user(reviewer).post(f"/api/v1/jobs/{job['id']}/approve", {"team": "grading"})

    assert approved.json()["status"] == "approved"
    assert review_teams(approved.json()) == ["grading"]


def test_a_job_cannot_be_submitted_twice(requester):
    alice = as_user(requester)
    job = book(alice)
    alice.post(f"/api/v1/jobs/{job['id']}/submit")

    again = alice.post(f"/api/v1/jobs/{job['id']}/submit")

    assert again.status_code == 409
    assert again.json()["code"] == "invalid_status"


def test_only_the_requesting_team_submits(requester, reviewer):
    job = book(as_user(requester))

    answer = as_user(reviewer).post(f"/api/v1/jobs/{job['id']}/submit")

    assert answer.status_code == 403
    assert MaintenanceJob.objects.get(pk=job["id"]).status == "draft"


# --- review ----------------------------------------------------------------


def test_a_member_of_the_requested_team_approves(requester, reviewer):
    job = pending_job(requester=requester)

    approved = as_user(reviewer).post(
        f"/api/v1/jobs/{job.pk}/approve", {"team": "grading", "comment": "Go ahead."}
    )

    assert approved.status_code == 200, approved.json()
    body = approved.json()
    assert body["status"] == "approved"
    assert body["reviews"] == [
        {
            "team": "grading",
            "round": 1,
            "reason": body["reviews"][0]["reason"],
            "status": "approved",
            "comment": "Go ahead.",
            "decided_by": "bob",
            "decided_at": "2030-12-01T09:00:00Z",
        }
    ]


def test_the_requesting_team_cannot_review_its_own_job(requester, colleague):
    job = pending_job(requester=requester)

    answer = as_user(colleague).post(f"/api/v1/jobs/{job.pk}/approve", {"team": "infra"})

    assert answer.status_code == 403
    assert MaintenanceJob.objects.get(pk=job.pk).status == "pending"


def test_a_requester_who_also_belongs_to_the_reviewing_team_cannot_approve(requester, org):
    org["grading"].members.add(requester)
    job = pending_job(requester=requester)

    answer = as_user(requester).post(f"/api/v1/jobs/{job.pk}/approve", {"team": "grading"})

    assert answer.status_code == 403
    assert MaintenanceJob.objects.get(pk=job.pk).status == "pending"


def test_a_non_member_cannot_review_for_a_team(requester, outsider):
    job = pending_job(requester=requester)

    answer = as_user(outsider).post(f"/api/v1/jobs/{job.pk}/approve", {"team": "grading"})

    assert answer.status_code == 403
    assert MaintenanceJob.objects.get(pk=job.pk).status == "pending"


def test_a_team_that_was_not_asked_cannot_review(requester, curriculum_staff):
    job = pending_job(requester=requester)

    answer = as_user(curriculum_staff).post(
        f"/api/v1/jobs/{job.pk}/approve", {"team": "curriculum"}
    )

    assert answer.status_code == 409
    assert MaintenanceJob.objects.get(pk=job.pk).status == "pending"


def test_a_team_reviews_only_once(requester, reviewer, curriculum_staff):
    builders.deadline(due=at(10, 23), cohort_size=500, systems=["grading-api"])
    job = pending_job(requester=requester)
    bob = as_user(reviewer)
    bob.post(f"/api/v1/jobs/{job.pk}/approve", {"team": "grading"})

    again = bob.post(f"/api/v1/jobs/{job.pk}/reject", {"team": "grading", "comment": "No."})

    assert again.status_code == 409
    assert MaintenanceJob.objects.get(pk=job.pk).status == "pending"


def test_one_approval_of_two_leaves_the_job_pending(requester, reviewer):
    builders.deadline(due=at(10, 23), cohort_size=500, systems=["grading-api"])
    job = pending_job(requester=requester)

    answer = as_user(reviewer).post(f"/api/v1/jobs/{job.pk}/approve", {"team": "grading"})

    assert answer.json()["status"] == "pending"
    statuses = {r["team"]: r["status"] for r in answer.json()["reviews"]}
    assert statuses == {"curriculum": "pending", "grading": "approved"}


def test_every_approval_approves_the_job(requester, reviewer, curriculum_staff):
    builders.deadline(due=at(10, 23), cohort_size=500, systems=["grading-api"])
    job = pending_job(requester=requester)
    as_user(reviewer).post(f"/api/v1/jobs/{job.pk}/approve", {"team": "grading"})

    answer = as_user(curriculum_staff).post(
        f"/api/v1/jobs/{job.pk}/approve", {"team": "curriculum"}
    )

    assert answer.json()["status"] == "approved"
    assert answer.json()["history"][-1]["reason"] == "every team concerned approved"


def test_one_rejection_rejects_the_job(requester, reviewer, curriculum_staff):
    builders.deadline(due=at(10, 23), cohort_size=500, systems=["grading-api"])
    job = pending_job(requester=requester)
    as_user(curriculum_staff).post(f"/api/v1/jobs/{job.pk}/approve", {"team": "curriculum"})

    answer = as_user(reviewer).post(
        f"/api/v1/jobs/{job.pk}/reject", {"team": "grading", "comment": "Marking week."}
    )

    assert answer.status_code == 200
    assert answer.json()["status"] == "rejected"
    assert answer.json()["history"][-1]["reason"] == "Grading: Marking week."


def test_a_rejection_closes_the_other_open_reviews(requester, reviewer):
    builders.deadline(due=at(10, 23), cohort_size=500, systems=["grading-api"])
    job = pending_job(requester=requester)

    answer = as_user(reviewer).post(
        f"/api/v1/jobs/{job.pk}/reject", {"team": "grading", "comment": "Marking week."}
    )

    statuses = {r["team"]: r["status"] for r in answer.json()["reviews"]}
    assert statuses == {"curriculum": "superseded", "grading": "rejected"}


# --- cancel and done -------------------------------------------------------


def test_the_requesting_team_cancels_before_the_window_ends(requester, reviewer, clock):
    job = approved_job(requester=requester, reviewer=reviewer)
    clock.move_to(at(10, 11))

    answer = as_user(requester).post(f"/api/v1/jobs/{job.pk}/cancel", {"reason": "Not needed."})

    assert answer.status_code == 200
    assert answer.json()["status"] == "cancelled"
    assert answer.json()["history"][-1]["reason"] == "Not needed."


def test_a_job_cannot_be_cancelled_after_its_window_ended(requester, reviewer, clock):
    job = approved_job(requester=requester, reviewer=reviewer)
    clock.move_to(at(10, 12))

    answer = as_user(requester).post(f"/api/v1/jobs/{job.pk}/cancel")

    assert answer.status_code == 409
    assert answer.json()["code"] == "window_ended"
    assert MaintenanceJob.objects.get(pk=job.pk).status == "approved"


def test_a_job_never_approved_in_its_window_is_called_off_after_it(requester, clock):
    job = pending_job(requester=requester)
    clock.move_to(at(10, 12))

    answer = as_user(requester).post(f"/api/v1/jobs/{job.pk}/cancel")

    assert answer.status_code == 200, answer.json()
    assert MaintenanceJob.objects.get(pk=job.pk).status == "cancelled"


def test_another_team_cannot_cancel_a_job(requester, reviewer):
    job = approved_job(requester=requester, reviewer=reviewer)

    answer = as_user(reviewer).post(f"/api/v1/jobs/{job.pk}/cancel")

    assert answer.status_code == 403
    assert MaintenanceJob.objects.get(pk=job.pk).status == "approved"


def test_a_job_is_not_done_while_its_window_is_open(requester, reviewer, clock):
    job = approved_job(requester=requester, reviewer=reviewer)
    clock.move_to(at(10, 11, 59))

    answer = as_user(requester).post(f"/api/v1/jobs/{job.pk}/done")

    assert answer.status_code == 409
    assert answer.json()["code"] == "window_open"


def test_a_job_is_done_once_its_window_ended(requester, reviewer, clock):
    job = approved_job(requester=requester, reviewer=reviewer)
    clock.move_to(at(10, 12))

    answer = as_user(requester).post(f"/api/v1/jobs/{job.pk}/done")

    assert answer.status_code == 200
    assert answer.json()["status"] == "done"


def test_a_recurring_job_is_done_only_after_its_last_window(requester, reviewer, clock):
    job = approved_job(requester=requester, reviewer=reviewer, rrule="FREQ=DAILY;COUNT=3")
    clock.move_to(at(11, 12))

    early = as_user(requester).post(f"/api/v1/jobs/{job.pk}/done")
    clock.move_to(at(12, 12))
    late = as_user(requester).post(f"/api/v1/jobs/{job.pk}/done")

    assert (early.status_code, late.status_code) == (409, 200)


# --- re-scheduling ---------------------------------------------------------


def test_rescheduling_an_approved_job_sends_it_back_to_a_fresh_review(requester, reviewer):
    job = approved_job(requester=requester, reviewer=reviewer)

    answer = as_user(requester).patch(
        f"/api/v1/jobs/{job.pk}",
        {"start": "2030-12-11T08:00:00Z", "end": "2030-12-11T12:00:00Z"},
        format="json",
    )

    assert answer.status_code == 200, answer.json()
    body = answer.json()
    assert (body["status"], body["start"]) == ("pending", "2030-12-11T08:00:00Z")
    assert [(r["team"], r["round"], r["status"]) for r in body["reviews"]] == [
        ("grading", 2, "pending")
    ]
    assert [e["action"] for e in body["history"]][-2:] == ["rescheduled", "resubmitted"]


def test_adding_a_system_to_an_approved_job_sends_it_back_to_review(requester, reviewer):
    job = approved_job(requester=requester, reviewer=reviewer)

    answer = as_user(requester).patch(
        f"/api/v1/jobs/{job.pk}", {"systems": ["grading-db", "reports-db"]}, format="json"
    )

    assert answer.json()["status"] == "pending"
    assert "reports-db" in answer.json()["impacted_systems"]


def test_renaming_an_approved_job_keeps_it_approved(requester, reviewer):
    job = approved_job(requester=requester, reviewer=reviewer)

    answer = as_user(requester).patch(f"/api/v1/jobs/{job.pk}", {"title": "Reindex (v2)"})

    assert answer.json()["status"] == "approved"
    assert answer.json()["title"] == "Reindex (v2)"


def test_rescheduling_into_a_refused_window_conflicts_the_job(requester, reviewer, org):
    builders.blackout(start=at(11), end=at(12), title="Exam week")
    job = approved_job(requester=requester, reviewer=reviewer)

    answer = as_user(requester).patch(
        f"/api/v1/jobs/{job.pk}",
        {"start": "2030-12-11T08:00:00Z", "end": "2030-12-11T12:00:00Z"},
        format="json",
    )

    assert answer.status_code == 200, answer.json()
    assert (answer.json()["status"], answer.json()["decision"]) == ("conflicted", "refuse")


@pytest.mark.django_db(transaction=True)
def test_a_conflicted_job_can_be_moved_and_reviewed_again(requester, reviewer, org):
    job = approved_job(requester=requester, reviewer=reviewer)
    builders.blackout(start=at(10), end=at(11), title="Exam week")
    assert MaintenanceJob.objects.get(pk=job.pk).status == "conflicted"

    answer = as_user(requester).patch(
        f"/api/v1/jobs/{job.pk}",
        {"start": "2030-12-12T08:00:00Z", "end": "2030-12-12T12:00:00Z"},
        format="json",
    )

    assert answer.json()["status"] == "pending"
    assert [(r["team"], r["status"]) for r in answer.json()["reviews"]] == [("grading", "pending")]


def test_a_draft_cannot_be_rescheduled_by_another_team(requester, reviewer):
    job = book(as_user(requester))

    answer = as_user(reviewer).patch(
        f"/api/v1/jobs/{job['id']}", {"start": "2030-12-11T08:00:00Z"}, format="json"
    )

    assert answer.status_code == 403


def test_a_job_rejected_then_moved_can_be_submitted_again(requester, reviewer):
    job = pending_job(requester=requester)
    as_user(reviewer).post(
        f"/api/v1/jobs/{job.pk}/reject", {"team": "grading", "comment": "Marking week."}
    )
    alice = as_user(requester)
    alice.patch(
        f"/api/v1/jobs/{job.pk}",
        {"start": "2030-12-12T08:00:00Z", "end": "2030-12-12T12:00:00Z"},
        format="json",
    )

    again = alice.post(f"/api/v1/jobs/{job.pk}/submit")

    assert again.json()["status"] == "pending"
    assert [(r["round"], r["status"]) for r in again.json()["reviews"]] == [(2, "pending")]


def test_a_draft_can_be_marked_an_emergency_before_it_is_submitted(requester, org, clock):
    client = as_user(requester)
    job = client.post("/api/v1/jobs", job_body(), format="json").json()

    changed = client.patch(
        f"/api/v1/jobs/{job['id']}",
        {"emergency": True, "justification": "Disk is 98 % full"},
        format="json",
    )

    assert changed.status_code == 200, changed.json()
    assert (changed.json()["emergency"], changed.json()["justification"]) == (
        True,
        "Disk is 98 % full",
    )


def test_a_job_answers_in_utc_however_its_times_were_entered(requester, org, clock):
    created = as_user(requester).post(
        "/api/v1/jobs",
        job_body(start="2030-12-10T08:00:00-05:00", end="2030-12-10T10:00:00-05:00"),
        format="json",
    )

    assert (created.json()["start"], created.json()["end"]) == (
        "2030-12-10T13:00:00Z",
        "2030-12-10T15:00:00Z",
    )

"""The audit trail: who did what to a job, when, why, and what the calendars said then."""

import pytest

from blackouts.services import blackout_update
from deadlines.services import deadline_withdraw
from scheduling.models import JobEvent
from tests import builders
from tests.builders import at
from tests.personas import as_user
from tests.workflow import approved_job, book, pending_job

pytestmark = pytest.mark.django_db(transaction=True)


def history(person, job_id: int) -> list[dict]:
    return as_user(person).get(f"/api/v1/jobs/{job_id}").json()["history"]


def steps(events: list[dict]) -> list[tuple]:
    return [(e["action"], e["actor"], e["from_status"], e["to_status"]) for e in events]


def test_every_step_of_a_job_is_in_its_history_with_actor_and_statuses(
    requester, reviewer, admin, clock
):
    alice, bob = as_user(requester), as_user(reviewer)
    job = book(alice)
    alice.post(f"/api/v1/jobs/{job['id']}/submit")
    bob.post(f"/api/v1/jobs/{job['id']}/approve", {"team": "grading", "comment": "Fine."})
    clock.move_to(at(2, 14))
    builders.blackout(start=at(10), end=at(11), title="Exam week")

    events = history(requester, job["id"])

    assert steps(events) == [
        ("created", "alice", "", "draft"),
        ("submitted", "alice", "draft", "pending"),
        ("review_approved", "bob", "", ""),
        ("approved", "bob", "pending", "approved"),
        ("reevaluated", "system", "approved", "approved"),
        ("conflicted", "system", "approved", "conflicted"),
    ]
    assert events[2]["reason"] == "Grading: Fine."
    assert events[-1]["at"] == "2030-12-02T14:00:00Z"


def test_an_entry_keeps_the_findings_of_its_moment(requester, reviewer):
    job = approved_job(requester=requester, reviewer=reviewer)
    builders.blackout(start=at(10), end=at(11), title="Exam week")

    events = {e["action"]: e for e in history(requester, job.pk)}

    assert (events["approved"]["decision"], events["approved"]["findings"]) == ("clear", [])
    conflicted = events["conflicted"]
    assert conflicted["decision"] == "refuse"
    assert [f["title"] for f in conflicted["findings"]] == ["Exam week"]
    assert "Exam week" in conflicted["reason"]


def test_a_rejection_is_recorded_with_the_reviewers_comment(requester, reviewer):
    job = pending_job(requester=requester)

    as_user(reviewer).post(
        f"/api/v1/jobs/{job.pk}/reject", {"team": "grading", "comment": "Marking week."}
    )

    assert steps(history(requester, job.pk))[-2:] == [
        ("review_rejected", "bob", "", ""),
        ("rejected", "bob", "pending", "rejected"),
    ]
    assert history(requester, job.pk)[-1]["reason"] == "Grading: Marking week."


def test_an_emergency_override_is_recorded_with_its_justification_and_findings(requester):
    builders.deadline(due=at(10, 23), cohort_size=2000, systems=["grading-api"])
    alice = as_user(requester)
    job = book(alice)

    alice.post(
        f"/api/v1/jobs/{job['id']}/submit",
        {"emergency": True, "justification": "The disk is 98% full."},
    )

    events = history(requester, job["id"])
    [override] = [e for e in events if e["action"] == "emergency_override"]
    assert (override["actor"], override["reason"], override["decision"]) == (
        "alice",
        "The disk is 98% full.",
        "refuse",
    )
    assert override["findings"][0]["kind"] == "deadline"
    assert steps(events)[-1] == ("submitted", "alice", "draft", "pending")


def test_a_refused_submit_is_recorded(requester):
    builders.deadline(due=at(10, 23), cohort_size=2000, systems=["grading-api"])
    alice = as_user(requester)
    job = book(alice)

    alice.post(f"/api/v1/jobs/{job['id']}/submit")

    last = history(requester, job["id"])[-1]
    assert (last["action"], last["actor"], last["decision"]) == (
        "submit_refused",
        "alice",
        "refuse",
    )
    assert last["findings"][0]["kind"] == "deadline"


def test_a_reevaluation_that_changes_the_decision_is_recorded(requester, clock):
    deadline = builders.deadline(due=at(10, 23), cohort_size=500, systems=["grading-api"])
    job = pending_job(requester=requester)
    clock.move_to(at(3))

    deadline_withdraw(deadline=deadline)

    reevaluated, withdrawn = history(requester, job.pk)[-2:]
    assert withdrawn["action"] == "review_withdrawn"
    last = reevaluated
    assert (last["action"], last["actor"], last["decision"], last["findings"]) == (
        "reevaluated",
        "system",
        "clear",
        [],
    )
    assert last["at"] == "2030-12-03T00:00:00Z"
    assert "Project 3" in last["reason"]
    assert "flag -> clear" in last["reason"]


def test_a_reevaluation_that_changes_nothing_leaves_no_entry(requester, org):
    blackout = builders.blackout(start=at(10), end=at(11), severity="flag", owner=org["exams"])
    job = pending_job(requester=requester)
    before = len(history(requester, job.pk))

    blackout_update(blackout=blackout, reason="Exams office asked for quiet.")

    assert len(history(requester, job.pk)) == before


def test_a_cancellation_is_recorded_with_its_reason(requester, reviewer):
    job = approved_job(requester=requester, reviewer=reviewer)

    as_user(requester).post(f"/api/v1/jobs/{job.pk}/cancel", {"reason": "Vendor postponed."})

    last = history(requester, job.pk)[-1]
    assert (last["action"], last["actor"], last["from_status"], last["to_status"]) == (
        "cancelled",
        "alice",
        "approved",
        "cancelled",
    )
    assert last["reason"] == "Vendor postponed."


def test_an_audit_entry_cannot_be_saved_again(requester):
    job = builders.job(by=requester)
    event = JobEvent.objects.get(job=job)

    event.reason = "rewritten"
    with pytest.raises(ValueError, match="append-only"):
        event.save()

    assert JobEvent.objects.get(pk=event.pk).reason == ""

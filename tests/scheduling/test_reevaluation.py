"""A calendar that changes under a booked job re-evaluates it: the incident, and its cousins."""

from datetime import datetime

import pytest
from django.db import transaction

from scheduling import tasks
from scheduling.models import MaintenanceJob
from scheduling.services import reevaluation
from scheduling.services.reviews import maintenance_job_review
from scheduling.services.transitions import maintenance_job_cancel
from tests import builders
from tests.builders import at
from tests.personas import as_user
from tests.workflow import approved_job, pending_job

pytestmark = pytest.mark.django_db(transaction=True)


def blackout_body(**overrides) -> dict:
    """A refusing blackout on every system for all of 2030-12-10 (UTC)."""
    return {
        "title": "Exam week",
        "team": "platform",
        "start": "2030-12-10T00:00:00Z",
        "end": "2030-12-11T00:00:00Z",
        "severity": "refuse",
        **overrides,
    }


def deadline_body(**overrides) -> dict:
    """Project 3 for 2,000 students on grading-api, due 2030-12-10 23:00 UTC."""
    return {
        "title": "Project 3",
        "team": "curriculum",
        "cohort_size": 2000,
        "due": "2030-12-10T23:00:00Z",
        "systems": ["grading-api"],
        **overrides,
    }


def status(job_id: int) -> str:
    return MaintenanceJob.objects.get(pk=job_id).status


def fetch(person, job_id: int) -> dict:
    return as_user(person).get(f"/api/v1/jobs/{job_id}").json()


# --- a change that makes things worse ---------------------------------------


def test_a_later_refusing_blackout_conflicts_an_approved_job(requester, reviewer, admin):
    job = approved_job(requester=requester, reviewer=reviewer)

    created = as_user(admin).post("/api/v1/blackouts", blackout_body(), format="json")

    assert created.status_code == 201, created.json()
    after = fetch(requester, job.pk)
    assert (after["status"], after["decision"]) == ("conflicted", "refuse")
    assert [f["title"] for f in after["findings"]] == ["Exam week"]
    assert after["history"][-1]["action"] == "conflicted"
    assert after["history"][-1]["actor"] == "system"


def test_a_later_flag_blackout_of_another_team_sends_the_job_back_to_review(
    requester, reviewer, admin
):
    job = approved_job(requester=requester, reviewer=reviewer)

    as_user(admin).post(
        "/api/v1/blackouts", blackout_body(team="exams", severity="flag"), format="json"
    )

    after = fetch(requester, job.pk)
    assert (after["status"], after["decision"]) == ("pending", "flag")
    assert [(r["team"], r["round"], r["status"]) for r in after["reviews"]] == [
        ("exams", 2, "pending"),
        ("grading", 2, "pending"),
    ]
    assert after["history"][-1]["action"] == "back_to_review"
    assert "Exam week" in after["history"][-1]["reason"]


def test_a_job_sent_back_to_review_is_approved_again_by_the_new_round(
    requester, reviewer, exams_officer, admin
):
    job = approved_job(requester=requester, reviewer=reviewer)
    as_user(admin).post(
        "/api/v1/blackouts", blackout_body(team="exams", severity="flag"), format="json"
    )

    as_user(reviewer).post(f"/api/v1/jobs/{job.pk}/approve", {"team": "grading"})
    answer = as_user(exams_officer).post(f"/api/v1/jobs/{job.pk}/approve", {"team": "exams"})

    assert answer.json()["status"] == "approved"


def test_a_later_flagging_deadline_asks_the_curriculum_team(requester, reviewer, curriculum_staff):
    job = approved_job(requester=requester, reviewer=reviewer)

    published = as_user(curriculum_staff).post(
        "/api/v1/deadlines", deadline_body(cohort_size=500), format="json"
    )

    assert published.status_code == 201, published.json()
    after = fetch(requester, job.pk)
    assert (after["status"], after["decision"]) == ("pending", "flag")
    assert sorted(r["team"] for r in after["reviews"]) == ["curriculum", "grading"]


def test_a_deadline_growing_past_the_refuse_threshold_conflicts_the_job(
    requester, reviewer, curriculum_staff
):
    deadline = builders.deadline(due=at(10, 23), cohort_size=500, systems=["grading-api"])
    job = pending_job(requester=requester)
    maintenance_job_review(job_id=job.pk, team="grading", by=reviewer, approve=True)
    maintenance_job_review(job_id=job.pk, team="curriculum", by=curriculum_staff, approve=True)
    assert MaintenanceJob.objects.get(pk=job.pk).status == "approved"

    changed = as_user(curriculum_staff).patch(
        f"/api/v1/deadlines/{deadline.pk}", {"cohort_size": 2000}, format="json"
    )

    assert changed.status_code == 200, changed.json()
    after = fetch(requester, job.pk)
    assert (after["status"], after["decision"]) == ("conflicted", "refuse")


def test_a_flag_blackout_turned_into_a_refusal_conflicts_the_job(
    requester, reviewer, exams_officer, admin, org
):
    blackout = builders.blackout(start=at(10), end=at(11), severity="flag", owner=org["exams"])
    job = pending_job(requester=requester)
    maintenance_job_review(job_id=job.pk, team="grading", by=reviewer, approve=True)
    maintenance_job_review(job_id=job.pk, team="exams", by=exams_officer, approve=True)

    as_user(admin).patch(f"/api/v1/blackouts/{blackout.pk}", {"severity": "refuse"})

    after = fetch(requester, job.pk)
    assert (after["status"], after["decision"]) == ("conflicted", "refuse")


def test_a_blackout_on_a_dependent_system_reaches_the_job(requester, reviewer, admin):
    job = approved_job(requester=requester, reviewer=reviewer)

    as_user(admin).post(
        "/api/v1/blackouts", blackout_body(systems=["submissions-web"]), format="json"
    )

    assert fetch(requester, job.pk)["status"] == "conflicted"


def test_a_refusal_during_review_conflicts_a_pending_job_and_closes_its_reviews(requester, admin):
    job = pending_job(requester=requester)

    as_user(admin).post("/api/v1/blackouts", blackout_body(), format="json")

    after = fetch(requester, job.pk)
    assert after["status"] == "conflicted"
    assert [(r["team"], r["status"]) for r in after["reviews"]] == [("grading", "superseded")]


def test_a_flag_during_review_adds_the_flagging_team_to_the_round(requester, admin):
    job = pending_job(requester=requester)

    as_user(admin).post(
        "/api/v1/blackouts", blackout_body(team="exams", severity="flag"), format="json"
    )

    after = fetch(requester, job.pk)
    assert after["status"] == "pending"
    assert [(r["team"], r["round"]) for r in after["reviews"]] == [("exams", 1), ("grading", 1)]


def test_approving_a_job_shows_it_on_drafts_booked_in_the_same_slot(requester, colleague):
    draft = builders.job(by=colleague, systems=["reports-db"], title="Reports backup")
    booked = builders.job(by=requester, systems=["reports-db"], title="Reports reindex")

    as_user(requester).post(f"/api/v1/jobs/{booked.pk}/submit")

    after = fetch(colleague, draft.pk)
    assert (after["status"], after["decision"]) == ("draft", "refuse")
    assert after["findings"][0]["kind"] == "maintenance"
    assert "Reports reindex" in after["findings"][0]["title"]


def test_a_blackout_on_one_occurrence_conflicts_a_recurring_job(requester, reviewer, org):
    job = approved_job(requester=requester, reviewer=reviewer, rrule="FREQ=DAILY;COUNT=3")

    builders.blackout(start=at(12), end=at(13), title="Exam day")

    after = fetch(requester, job.pk)
    assert after["status"] == "conflicted"
    [finding] = after["findings"]
    assert finding["title"] == "Exam day"
    assert datetime.fromisoformat(finding["occurrence"]) == at(12, 8)


def test_a_change_that_is_rolled_back_reevaluates_nothing(requester, reviewer, org):
    job = approved_job(requester=requester, reviewer=reviewer)

    with pytest.raises(RuntimeError), transaction.atomic():
        builders.blackout(start=at(10), end=at(11), title="Exam week")
        raise RuntimeError("the admin's form failed after the save")

    after = MaintenanceJob.objects.get(pk=job.pk)
    assert (after.status, after.decision) == ("approved", "clear")


# --- a change that makes things better --------------------------------------


def test_withdrawing_a_deadline_clears_the_job_and_the_audit_says_so(requester, curriculum_staff):
    deadline = builders.deadline(due=at(10, 23), cohort_size=500, systems=["grading-api"])
    job = pending_job(requester=requester)
    assert job.decision == "flag"

    withdrawn = as_user(curriculum_staff).delete(f"/api/v1/deadlines/{deadline.pk}")

    assert withdrawn.status_code == 204
    after = fetch(requester, job.pk)
    assert (after["status"], after["decision"], after["findings"]) == ("pending", "clear", [])
    event = next(e for e in after["history"] if e["action"] == "reevaluated")
    assert (event["action"], event["actor"], event["decision"]) == (
        "reevaluated",
        "system",
        "clear",
    )
    assert "withdrawn" in event["reason"]
    assert "flag -> clear" in event["reason"]


def test_deleting_a_blackout_reevaluates_then_approves_the_conflicted_job(
    requester, reviewer, admin
):
    job = approved_job(requester=requester, reviewer=reviewer)
    blackout = as_user(admin).post("/api/v1/blackouts", blackout_body(), format="json").json()

    deleted = as_user(admin).delete(f"/api/v1/blackouts/{blackout['id']}")

    assert deleted.status_code == 204
    after = fetch(requester, job.pk)
    assert (after["status"], after["decision"]) == ("approved", "clear")
    reevaluated, cleared = after["history"][-2:]
    assert reevaluated["action"] == "reevaluated"
    assert "refuse -> clear" in reevaluated["reason"]
    assert (cleared["action"], cleared["from_status"], cleared["to_status"]) == (
        "conflict_cleared",
        "conflicted",
        "approved",
    )


def test_cancelling_a_job_frees_its_slot_for_the_drafts_behind_it(requester, colleague):
    booked = builders.job(by=requester, systems=["reports-db"], title="Reports reindex")
    as_user(requester).post(f"/api/v1/jobs/{booked.pk}/submit")
    draft = builders.job(by=colleague, systems=["reports-db"], title="Reports backup")
    assert draft.decision == "refuse"

    as_user(requester).post(f"/api/v1/jobs/{booked.pk}/cancel")

    after = fetch(colleague, draft.pk)
    assert (after["status"], after["decision"], after["findings"]) == ("draft", "clear", [])


# --- the daily horizon roll ----------------------------------------------------


def test_the_daily_roll_conflicts_a_job_a_recurring_blackout_reaches_beyond_the_old_horizon(
    requester, reviewer, admin, clock, settings
):
    settings.CLEARWAY_HORIZON_DAYS = 14
    # Every Tuesday, refusing: materialised up to the 15th (the 3rd and the 10th).
    as_user(admin).post(
        "/api/v1/blackouts",
        blackout_body(
            start="2030-12-03T00:00:00Z", end="2030-12-04T00:00:00Z", rrule="FREQ=WEEKLY"
        ),
        format="json",
    )
    job = approved_job(requester=requester, reviewer=reviewer, start=at(24, 8))
    clock.move_to(at(12, 3))

    tasks.refresh_horizon()

    assert status(job.pk) == "conflicted"
    gate = as_user(requester).get(f"/api/v1/jobs/{job.pk}/gate?at=2030-12-24T09:00:00Z")
    assert gate.status_code == 423


def test_the_daily_roll_clears_a_draft_booked_in_allowed_windows_beyond_the_old_horizon(
    requester, admin, clock, settings
):
    settings.CLEARWAY_HORIZON_DAYS = 14
    as_user(admin).patch(
        "/api/v1/systems/reports-db",
        {
            "maintenance_window": {
                "rrule": "FREQ=WEEKLY;BYDAY=SA",
                "start_time": "22:00",
                "duration": "PT4H",
                "timezone": "UTC",
            }
        },
        format="json",
    )
    # Saturday the 28th, 22:00: outside every allowed window stored up to the 15th.
    draft = builders.job(by=requester, systems=["reports-db"], start=at(28, 22))
    assert draft.decision == "refuse"
    clock.move_to(at(20))

    tasks.refresh_horizon()

    after = MaintenanceJob.objects.get(pk=draft.pk)
    assert (after.decision, after.findings) == ("clear", [])


def test_deleting_the_dependent_system_whose_window_conflicted_a_job_approves_it_again(
    requester, reviewer, admin, clock
):
    job = approved_job(requester=requester, reviewer=reviewer)  # grading-db, Dec 10 08:00-12:00
    clock.move_to(at(2))
    added = as_user(admin).post(
        "/api/v1/systems",
        {
            "slug": "grading-cache",
            "name": "Cache",
            "team": "grading",
            "depends_on": ["grading-db"],
            "maintenance_window": {
                "rrule": "FREQ=DAILY",
                "start_time": "22:00",
                "duration": "PT4H",
                "timezone": "UTC",
            },
        },
        format="json",
    )
    assert added.status_code == 201, added.json()
    assert status(job.pk) == "conflicted"

    gone = as_user(admin).delete("/api/v1/systems/grading-cache")

    assert gone.status_code == 204
    after = MaintenanceJob.objects.get(pk=job.pk)
    assert (after.status, after.decision) == ("approved", "clear")


# --- what a change does not touch ---------------------------------------------


def test_a_blackout_at_another_time_leaves_the_job_untouched(requester, reviewer, admin, clock):
    job = approved_job(requester=requester, reviewer=reviewer)
    clock.move_to(at(2))

    as_user(admin).post(
        "/api/v1/blackouts",
        blackout_body(start="2030-12-12T00:00:00Z", end="2030-12-13T00:00:00Z"),
        format="json",
    )

    after = MaintenanceJob.objects.get(pk=job.pk)
    assert (after.status, after.evaluated_at) == ("approved", at(1, 9))
    assert after.history.last().action == "approved"


def test_a_blackout_on_an_unrelated_system_leaves_the_job_untouched(
    requester, reviewer, admin, clock
):
    job = approved_job(requester=requester, reviewer=reviewer)
    clock.move_to(at(2))

    as_user(admin).post("/api/v1/blackouts", blackout_body(systems=["reports-db"]), format="json")

    after = MaintenanceJob.objects.get(pk=job.pk)
    assert (after.status, after.evaluated_at) == ("approved", at(1, 9))


def test_a_cancelled_job_is_not_reevaluated(requester, admin, clock):
    job = pending_job(requester=requester)
    maintenance_job_cancel(job_id=job.pk, by=requester)
    clock.move_to(at(2))

    as_user(admin).post("/api/v1/blackouts", blackout_body(), format="json")

    after = MaintenanceJob.objects.get(pk=job.pk)
    assert (after.status, after.decision, after.evaluated_at) == ("cancelled", "clear", at(1, 9))


# --- what the job remembers ---------------------------------------------------


def test_the_findings_stored_on_a_job_are_those_of_its_last_evaluation(
    requester, reviewer, admin, clock
):
    job = approved_job(requester=requester, reviewer=reviewer)
    clock.move_to(at(2, 10))
    blackout = as_user(admin).post(
        "/api/v1/blackouts", blackout_body(team="exams", severity="flag"), format="json"
    )
    flagged = fetch(requester, job.pk)
    clock.move_to(at(3, 11))

    as_user(admin).delete(f"/api/v1/blackouts/{blackout.json()['id']}")

    cleared = fetch(requester, job.pk)
    assert (flagged["evaluated_at"], [f["title"] for f in flagged["findings"]]) == (
        "2030-12-02T10:00:00Z",
        ["Exam week"],
    )
    assert (cleared["evaluated_at"], cleared["findings"]) == ("2030-12-03T11:00:00Z", [])


def test_a_job_deleted_while_the_raw_sources_are_read_is_skipped_not_a_crash(
    requester, reviewer, settings, monkeypatch
):
    # With CLEARWAY_TIMELINE off the jobs are found, then their statuses read: a job
    # deleted in between is gone, not moved.
    settings.CLEARWAY_TIMELINE = False
    job = approved_job(requester=requester, reviewer=reviewer)
    monkeypatch.setattr(reevaluation, "jobs_touching", lambda **kwargs: [job.pk, job.pk + 1000])

    touched = reevaluation.reevaluate_jobs(
        start=at(1), end=at(30), systems=None, reason="a blackout was deleted"
    )

    assert touched == [job.pk, job.pk + 1000]
    assert MaintenanceJob.objects.get(pk=job.pk).status == "approved"

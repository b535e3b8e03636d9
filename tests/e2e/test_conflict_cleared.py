"""Two-way re-evaluation: a job a calendar change took out of approval comes back by itself.

Approve, let a later deadline or blackout conflict the job, take the cause
away again: the job is approved with its standing reviews, its gate opens in
its window, and the team and reviewers are told once.
"""

from datetime import timedelta

import pytest

from scheduling.models import Delivery, MaintenanceJob
from scheduling.services.passing import jobs_reevaluate_passed
from scheduling.services.submission import maintenance_job_submit
from scheduling.tasks import reevaluate_passed
from tests import builders
from tests.builders import at
from tests.ci.clients import bearer, token_for
from tests.personas import as_user
from tests.workflow import approved_job, book, pending_job

pytestmark = pytest.mark.django_db(transaction=True)


def deadline_body(**overrides) -> dict:
    """Project 3 for 2,000 students on grading-api, due 2030-12-10 23:00 UTC: refuses the job."""
    return {
        "title": "Project 3",
        "team": "curriculum",
        "cohort_size": 2000,
        "due": "2030-12-10T23:00:00Z",
        "systems": ["grading-api"],
        **overrides,
    }


def blackout_body(**overrides) -> dict:
    return {
        "title": "Exam week",
        "team": "platform",
        "start": "2030-12-10T00:00:00Z",
        "end": "2030-12-11T00:00:00Z",
        "severity": "refuse",
        **overrides,
    }


def status(job_id: int) -> str:
    return MaintenanceJob.objects.get(pk=job_id).status


def cleared_deliveries(job_id: int) -> list[tuple[str, str]]:
    return sorted(
        Delivery.objects.filter(job_id=job_id, event="conflict_cleared").values_list(
            "channel", "subject"
        )
    )


def test_withdrawing_a_late_deadline_approves_the_job_again(
    requester, reviewer, curriculum_staff, clock
):
    job = approved_job(requester=requester, reviewer=reviewer)
    staff = as_user(curriculum_staff)
    deadline = staff.post("/api/v1/deadlines", deadline_body(), format="json").json()
    assert status(job.pk) == "conflicted"

    withdrawn = staff.delete(f"/api/v1/deadlines/{deadline['id']}")

    assert withdrawn.status_code == 204
    after = as_user(requester).get(f"/api/v1/jobs/{job.pk}").json()
    assert (after["status"], after["decision"]) == ("approved", "clear")
    assert after["history"][-1]["action"] == "conflict_cleared"
    assert after["history"][-1]["actor"] == "system"
    assert [(r["team"], r["status"]) for r in after["reviews"]] == [("grading", "approved")]


def test_the_gate_of_a_cleared_job_opens_in_its_window(
    requester, reviewer, curriculum_staff, clock
):
    job = approved_job(requester=requester, reviewer=reviewer)
    staff = as_user(curriculum_staff)
    deadline = staff.post("/api/v1/deadlines", deadline_body(), format="json").json()
    staff.delete(f"/api/v1/deadlines/{deadline['id']}")
    clock.move_to(at(10, 9))

    gate = as_user(requester).get(f"/api/v1/jobs/{job.pk}/gate")

    assert gate.status_code == 200, gate.json()
    assert gate.json()["allowed"] is True


def test_conflict_cleared_reaches_the_team_and_its_reviewers_once(
    requester, reviewer, curriculum_staff, org
):
    org["infra"].webhook_url = "https://hooks.example.org/infra"
    org["infra"].save()
    job = approved_job(requester=requester, reviewer=reviewer)
    staff = as_user(curriculum_staff)
    deadline = staff.post("/api/v1/deadlines", deadline_body(), format="json").json()

    staff.delete(f"/api/v1/deadlines/{deadline['id']}")
    # The same change re-evaluated a second time (a retried task) tells nobody again.
    from scheduling.services.reevaluation import maintenance_job_reevaluate

    maintenance_job_reevaluate(job_id=job.pk, reason="deadline withdrawn again")

    channels = [channel for channel, _ in cleared_deliveries(job.pk)]
    assert channels == [
        "email:grading@example.org",
        "email:infra@example.org",
        "webhook:https://hooks.example.org/infra",
    ]
    conflicted = Delivery.objects.filter(job_id=job.pk, event="conflicted")
    assert {d.channel for d in conflicted} == set(channels)


def test_deleting_a_blackout_approves_the_conflicted_job_again(requester, reviewer, admin):
    job = approved_job(requester=requester, reviewer=reviewer)
    staff = as_user(admin)
    blackout = staff.post("/api/v1/blackouts", blackout_body(), format="json").json()
    assert status(job.pk) == "conflicted"

    staff.delete(f"/api/v1/blackouts/{blackout['id']}")

    assert status(job.pk) == "approved"


def test_shortening_a_blackout_off_the_window_approves_the_job_again(requester, reviewer, admin):
    job = approved_job(requester=requester, reviewer=reviewer)
    staff = as_user(admin)
    blackout = staff.post("/api/v1/blackouts", blackout_body(), format="json").json()

    shortened = staff.patch(
        f"/api/v1/blackouts/{blackout['id']}",
        {"end": "2030-12-10T06:00:00Z"},
        format="json",
    )

    assert shortened.status_code == 200, shortened.json()
    assert status(job.pk) == "approved"


def test_a_cleared_job_still_flagged_by_a_new_team_goes_to_that_team_only(
    requester, reviewer, admin, org
):
    job = approved_job(requester=requester, reviewer=reviewer)
    staff = as_user(admin)
    refusing = staff.post("/api/v1/blackouts", blackout_body(), format="json").json()
    staff.post(
        "/api/v1/blackouts",
        blackout_body(title="Open day", team="exams", severity="flag"),
        format="json",
    )

    staff.delete(f"/api/v1/blackouts/{refusing['id']}")

    after = as_user(requester).get(f"/api/v1/jobs/{job.pk}").json()
    assert after["status"] == "pending"
    assert [(r["team"], r["status"]) for r in after["reviews"] if r["round"] == 1] == [
        ("exams", "pending"),
        ("grading", "approved"),
    ]


def test_a_withdrawn_flag_withdraws_its_review_request_and_tells_that_team(
    requester, curriculum_staff
):
    deadline = builders.deadline(due=at(10, 23), cohort_size=500, systems=["grading-api"])
    job = pending_job(requester=requester)
    assert sorted(job.reviews.values_list("team__slug", flat=True)) == ["curriculum", "grading"]

    as_user(curriculum_staff).delete(f"/api/v1/deadlines/{deadline.pk}")

    after = as_user(requester).get(f"/api/v1/jobs/{job.pk}").json()
    assert [(r["team"], r["status"]) for r in after["reviews"]] == [
        ("curriculum", "superseded"),
        ("grading", "pending"),
    ]
    told = Delivery.objects.filter(job_id=job.pk, event="review_withdrawn")
    assert [d.channel for d in told] == ["email:curriculum@example.org"]


def test_withdrawing_the_last_awaited_review_approves_the_job(
    requester, reviewer, curriculum_staff
):
    deadline = builders.deadline(due=at(10, 23), cohort_size=500, systems=["grading-api"])
    job = pending_job(requester=requester)
    as_user(reviewer).post(f"/api/v1/jobs/{job.pk}/approve", {"team": "grading"})

    as_user(curriculum_staff).delete(f"/api/v1/deadlines/{deadline.pk}")

    assert status(job.pk) == "approved"


def test_a_recurring_job_returns_when_its_colliding_occurrence_clears(requester, reviewer, admin):
    job = approved_job(requester=requester, reviewer=reviewer, rrule="FREQ=DAILY;COUNT=3")
    staff = as_user(admin)
    exam_day = staff.post(
        "/api/v1/blackouts",
        blackout_body(start="2030-12-12T00:00:00Z", end="2030-12-13T00:00:00Z"),
        format="json",
    ).json()
    assert status(job.pk) == "conflicted"

    staff.delete(f"/api/v1/blackouts/{exam_day['id']}")

    assert status(job.pk) == "approved"


def test_a_job_conflicted_at_resubmission_does_not_come_back_by_itself(
    requester, reviewer, admin, clock
):
    job = approved_job(requester=requester, reviewer=reviewer)
    staff = as_user(admin)
    blackout = staff.post(
        "/api/v1/blackouts",
        blackout_body(start="2030-12-11T00:00:00Z", end="2030-12-12T00:00:00Z"),
        format="json",
    ).json()
    moved = as_user(requester).patch(
        f"/api/v1/jobs/{job.pk}",
        {"start": "2030-12-11T08:00:00Z", "end": "2030-12-11T12:00:00Z"},
        format="json",
    )
    assert moved.json()["status"] == "conflicted"
    clock.move_to(at(1, 9) + timedelta(minutes=5))

    staff.delete(f"/api/v1/blackouts/{blackout['id']}")

    # The team moved it into the blackout itself: it re-submits when ready.
    assert status(job.pk) == "conflicted"


def test_a_conflicted_job_its_team_moved_into_another_refusal_stays_conflicted_when_it_clears(
    requester, reviewer, admin, clock
):
    job = approved_job(requester=requester, reviewer=reviewer)
    staff = as_user(admin)
    staff.post("/api/v1/blackouts", blackout_body(), format="json")
    audit = staff.post(
        "/api/v1/blackouts",
        blackout_body(title="Audit", start="2030-12-11T00:00:00Z", end="2030-12-12T00:00:00Z"),
        format="json",
    ).json()
    assert status(job.pk) == "conflicted"
    # Moved to the 11th, where the audit refuses it too: conflicted -> conflicted.
    moved = as_user(requester).patch(
        f"/api/v1/jobs/{job.pk}",
        {"start": "2030-12-11T08:00:00Z", "end": "2030-12-11T12:00:00Z"},
        format="json",
    )
    assert moved.json()["status"] == "conflicted"

    staff.delete(f"/api/v1/blackouts/{audit['id']}")

    # Grading approved the 10th, never the 11th: the team re-submits when ready.
    assert status(job.pk) == "conflicted"


def test_a_cleared_job_beside_another_teams_degraded_booking_is_approved_again(
    requester, reviewer, exams_officer, admin, org
):
    from scheduling.services.submission import maintenance_job_submit

    job = approved_job(requester=requester, reviewer=reviewer, impact="degraded")
    staff = as_user(admin)
    blackout = staff.post(
        "/api/v1/blackouts", blackout_body(systems=["grading-db"]), format="json"
    ).json()
    # Booked while the blackout has taken infra's job out: it overlaps infra's window.
    other = builders.job(
        owner=org["exams"],
        by=exams_officer,
        systems=["grading-api"],
        impact="degraded",
        title="Exam results export",
    )
    maintenance_job_submit(job_id=other.pk, by=exams_officer)

    staff.delete(f"/api/v1/blackouts/{blackout['id']}")

    after = as_user(requester).get(f"/api/v1/jobs/{job.pk}").json()
    assert after["decision"] == "flag"
    assert [f["kind"] for f in after["findings"]] == ["maintenance"]
    assert after["status"] == "approved"


def test_a_job_sent_to_review_then_conflicted_comes_back_when_both_causes_go(
    requester, reviewer, admin
):
    job = approved_job(requester=requester, reviewer=reviewer)
    staff = as_user(admin)
    flag = staff.post(
        "/api/v1/blackouts", blackout_body(team="exams", severity="flag"), format="json"
    ).json()
    refusal = staff.post("/api/v1/blackouts", blackout_body(title="Audit"), format="json").json()
    assert status(job.pk) == "conflicted"

    staff.delete(f"/api/v1/blackouts/{refusal['id']}")
    # Still flagged by exams: back to review by exams alone (grading's approval stands).
    assert status(job.pk) == "pending"
    assert list(job.reviews.filter(status="pending").values_list("team__slug", flat=True)) == [
        "exams"
    ]

    staff.delete(f"/api/v1/blackouts/{flag['id']}")
    assert status(job.pk) == "approved"


def test_a_job_that_came_back_from_review_and_conflict_comes_back_from_a_later_conflict(
    requester, reviewer, curriculum_staff, admin, clock
):
    job = approved_job(requester=requester, reviewer=reviewer)
    staff = as_user(curriculum_staff)
    # Sent back to review (round 2), conflicted, and approved again on grading's round 1.
    deadline = staff.post("/api/v1/deadlines", deadline_body(cohort_size=500), format="json")
    staff.patch(f"/api/v1/deadlines/{deadline.json()['id']}", {"cohort_size": 2000}, format="json")
    staff.delete(f"/api/v1/deadlines/{deadline.json()['id']}")
    assert status(job.pk) == "approved"
    audit = as_user(admin).post("/api/v1/blackouts", blackout_body(), format="json").json()
    assert status(job.pk) == "conflicted"

    as_user(admin).delete(f"/api/v1/blackouts/{audit['id']}")

    # Grading's approval still stands: nobody is asked again.
    assert status(job.pk) == "approved"


def test_a_deadline_that_refuses_flags_and_refuses_again_gives_the_approval_back_when_withdrawn(
    requester, reviewer, curriculum_staff
):
    job = approved_job(requester=requester, reviewer=reviewer)
    staff = as_user(curriculum_staff)
    deadline = staff.post("/api/v1/deadlines", deadline_body(), format="json").json()
    staff.patch(f"/api/v1/deadlines/{deadline['id']}", {"cohort_size": 500}, format="json")
    staff.patch(f"/api/v1/deadlines/{deadline['id']}", {"cohort_size": 2000}, format="json")
    assert status(job.pk) == "conflicted"

    staff.delete(f"/api/v1/deadlines/{deadline['id']}")

    assert status(job.pk) == "approved"
    assert cleared_deliveries(job.pk)


def test_a_dependency_that_brings_traffic_to_an_approved_job_conflicts_it_and_back(
    requester, admin
):
    builders.deadline(due=at(10, 23), cohort_size=2000, systems=["grading-api"])
    job = builders.job(systems=["reports-db"], by=requester)
    maintenance_job_submit(job_id=job.pk, by=requester)
    assert status(job.pk) == "approved"  # infra owns reports-db; nothing reaches it
    staff = as_user(admin)

    staff.patch(
        "/api/v1/systems/grading-api", {"depends_on": ["grading-db", "reports-db"]}, format="json"
    )
    assert status(job.pk) == "conflicted"

    staff.patch("/api/v1/systems/grading-api", {"depends_on": ["grading-db"]}, format="json")
    assert status(job.pk) == "approved"


def _open_day(staff) -> dict:
    """A flag blackout over the job's day, published by curriculum."""
    body = blackout_body(title="Open day", team="curriculum", severity="flag")
    return staff.post("/api/v1/blackouts", body, format="json").json()


def _reviews(job_id: int) -> list[tuple[int, str, str]]:
    return sorted(
        MaintenanceJob.objects.get(pk=job_id).reviews.values_list("round", "team__slug", "status")
    )


def test_a_pending_job_whose_flag_passes_to_another_team_waits_for_that_team(
    requester, reviewer, admin, clock
):
    staff = as_user(admin)
    open_day = _open_day(staff)
    job = pending_job(requester=requester)
    as_user(reviewer).post(f"/api/v1/jobs/{job.pk}/approve", {"team": "grading"})

    staff.patch(f"/api/v1/blackouts/{open_day['id']}", {"team": "exams"}, format="json")

    assert status(job.pk) == "pending"
    assert _reviews(job.pk) == [
        (1, "curriculum", "superseded"),
        (1, "exams", "pending"),
        (1, "grading", "approved"),
    ]


def test_a_job_back_in_review_whose_flag_passes_to_another_team_asks_that_team(
    requester, reviewer, admin, clock
):
    job = approved_job(requester=requester, reviewer=reviewer)
    staff = as_user(admin)
    open_day = _open_day(staff)
    assert status(job.pk) == "pending"
    as_user(reviewer).post(f"/api/v1/jobs/{job.pk}/approve", {"team": "grading"})

    staff.patch(f"/api/v1/blackouts/{open_day['id']}", {"team": "exams"}, format="json")

    assert status(job.pk) == "pending"
    assert [(team, state) for round_, team, state in _reviews(job.pk) if round_ == 2] == [
        ("curriculum", "superseded"),
        ("exams", "pending"),
        ("grading", "approved"),
    ]


def _approved_emergency(requester, reviewer, admin) -> int:
    """A job that 2,000 students refuse, approved as an emergency override by grading and an
    administrator."""
    builders.deadline(due=at(10, 23), cohort_size=2000, systems=["grading-api"])
    alice = as_user(requester)
    job = book(alice)
    alice.post(
        f"/api/v1/jobs/{job['id']}/submit",
        {"emergency": True, "justification": "The disk is 98% full."},
        format="json",
    )
    as_user(reviewer).post(f"/api/v1/jobs/{job['id']}/approve", {"team": "grading"})
    as_user(admin).post(f"/api/v1/jobs/{job['id']}/approve", {"team": "platform"})
    assert status(job["id"]) == "approved"
    return job["id"]


def test_an_emergency_override_conflicted_by_a_later_blackout_comes_back_when_it_goes(
    requester, reviewer, admin, clock
):
    job_id = _approved_emergency(requester, reviewer, admin)
    staff = as_user(admin)
    audit = staff.post("/api/v1/blackouts", blackout_body(title="Audit"), format="json").json()
    assert status(job_id) == "conflicted"

    staff.delete(f"/api/v1/blackouts/{audit['id']}")

    # Only the refusal the administrators overrode is left.
    assert status(job_id) == "approved"


def test_the_gate_of_an_emergency_override_that_came_back_opens_in_its_window(
    requester, reviewer, admin, clock
):
    job_id = _approved_emergency(requester, reviewer, admin)
    staff = as_user(admin)
    audit = staff.post("/api/v1/blackouts", blackout_body(title="Audit"), format="json").json()
    staff.delete(f"/api/v1/blackouts/{audit['id']}")
    clock.move_to(at(10, 9))

    gate = as_user(requester).get(f"/api/v1/jobs/{job_id}/gate")

    assert gate.status_code == 200, gate.json()


def test_an_emergency_override_stays_conflicted_while_a_refusal_it_did_not_cover_remains(
    requester, reviewer, admin, clock
):
    job_id = _approved_emergency(requester, reviewer, admin)
    staff = as_user(admin)
    audit = staff.post("/api/v1/blackouts", blackout_body(title="Audit"), format="json").json()
    staff.post("/api/v1/blackouts", blackout_body(title="Exams"), format="json")

    staff.delete(f"/api/v1/blackouts/{audit['id']}")

    assert status(job_id) == "conflicted"


def test_a_team_told_of_the_conflict_while_asked_to_review_is_told_it_cleared(
    requester, reviewer, curriculum_staff, clock
):
    job = approved_job(requester=requester, reviewer=reviewer)
    staff = as_user(curriculum_staff)
    # 500 students flag the job: back to review, curriculum asked.
    deadline = staff.post("/api/v1/deadlines", deadline_body(cohort_size=500), format="json")
    assert status(job.pk) == "pending"
    # 2,000 refuse it: conflicted, and curriculum, asked to review, is told.
    staff.patch(f"/api/v1/deadlines/{deadline.json()['id']}", {"cohort_size": 2000}, format="json")
    told = Delivery.objects.filter(job_id=job.pk, event="conflicted")
    assert "email:curriculum@example.org" in {d.channel for d in told}

    staff.delete(f"/api/v1/deadlines/{deadline.json()['id']}")

    assert status(job.pk) == "approved"
    assert [channel for channel, _ in cleared_deliveries(job.pk)] == [
        "email:curriculum@example.org",
        "email:grading@example.org",
        "email:infra@example.org",
    ]


def test_a_team_told_only_of_an_earlier_conflict_is_not_told_a_later_one_cleared(
    requester, reviewer, curriculum_staff, admin, clock
):
    job = approved_job(requester=requester, reviewer=reviewer)
    staff = as_user(curriculum_staff)
    # First conflict, told to curriculum as well (asked to review then), and cleared.
    deadline = staff.post("/api/v1/deadlines", deadline_body(cohort_size=500), format="json")
    staff.patch(f"/api/v1/deadlines/{deadline.json()['id']}", {"cohort_size": 2000}, format="json")
    staff.delete(f"/api/v1/deadlines/{deadline.json()['id']}")
    # A second one, told to infra and grading only.
    audit = as_user(admin).post("/api/v1/blackouts", blackout_body(), format="json").json()

    as_user(admin).delete(f"/api/v1/blackouts/{audit['id']}")

    assert status(job.pk) == "approved"
    cleared = Delivery.objects.filter(job_id=job.pk, event="conflict_cleared").order_by("pk")
    last = cleared.last().key
    assert sorted(d.channel for d in cleared if d.key == last) == [
        "email:grading@example.org",
        "email:infra@example.org",
    ]


# --- when another booking was the cause -----------------------------------------


def _refused_by_a_booking(requester, reviewer, admin):
    """The job (grading-db) and another approved exclusive lock (reports-db), both on the
    10th 08-12; grading-api then comes to depend on reports-db: the other booking, approved
    and holding its slot, now refuses the job."""
    job = approved_job(requester=requester, reviewer=reviewer)
    other = builders.job(systems=["reports-db"], by=requester, title="Reports vacuum")
    maintenance_job_submit(job_id=other.pk, by=requester)
    as_user(admin).patch(
        "/api/v1/systems/grading-api", {"depends_on": ["grading-db", "reports-db"]}, format="json"
    )
    assert (status(job.pk), status(other.pk)) == ("conflicted", "approved")
    return job, other


def test_moving_the_booking_that_refused_a_job_away_approves_the_job_again(
    requester, reviewer, admin
):
    job, other = _refused_by_a_booking(requester, reviewer, admin)

    moved = as_user(requester).patch(
        f"/api/v1/jobs/{other.pk}",
        {"start": "2030-12-11T08:00:00Z", "end": "2030-12-11T12:00:00Z"},
        format="json",
    )

    assert moved.status_code == 200, moved.json()
    assert status(job.pk) == "approved"
    assert as_user(requester).get(f"/api/v1/jobs/{job.pk}").json()["findings"] == []


def test_the_moved_booking_approved_in_its_new_window_leaves_the_job_approved(
    requester, reviewer, admin
):
    job, other = _refused_by_a_booking(requester, reviewer, admin)
    as_user(requester).patch(
        f"/api/v1/jobs/{other.pk}",
        {"start": "2030-12-11T08:00:00Z", "end": "2030-12-11T12:00:00Z"},
        format="json",
    )
    assert status(other.pk) == "pending"  # grading now reviews work on reports-db

    as_user(reviewer).post(f"/api/v1/jobs/{other.pk}/approve", {"team": "grading"}, format="json")

    assert (status(other.pk), status(job.pk)) == ("approved", "approved")


def test_another_team_moving_a_booking_made_while_the_job_was_conflicted_approves_it_again(
    requester, reviewer, admin, org, exams_officer
):
    job = approved_job(requester=requester, reviewer=reviewer)
    staff = as_user(admin)
    audit = staff.post(
        "/api/v1/blackouts",
        blackout_body(systems=["grading-db"], end="2030-12-10T09:00:00Z", title="Audit"),
        format="json",
    ).json()
    # While the audit holds the job out, exams books grading-api 09-11 and grading approves.
    export = builders.job(
        owner=org["exams"],
        by=exams_officer,
        systems=["grading-api"],
        start=at(10, 9),
        end=at(10, 11),
        title="Exam export",
    )
    maintenance_job_submit(job_id=export.pk, by=exams_officer)
    as_user(reviewer).post(f"/api/v1/jobs/{export.pk}/approve", {"team": "grading"})
    staff.delete(f"/api/v1/blackouts/{audit['id']}")
    assert status(job.pk) == "conflicted"  # now refused by the export

    moved = as_user(exams_officer).patch(
        f"/api/v1/jobs/{export.pk}",
        {"start": "2030-12-11T09:00:00Z", "end": "2030-12-11T11:00:00Z"},
        format="json",
    )

    assert moved.status_code == 200, moved.json()
    assert status(job.pk) == "approved"


def test_the_booking_that_refused_a_job_conflicted_by_the_same_change_approves_the_job_again(
    requester, reviewer, admin
):
    job, other = _refused_by_a_booking(requester, reviewer, admin)
    assert job.pk < other.pk  # the change reaches the job first, then the booking

    audit = as_user(admin).post(
        "/api/v1/blackouts",
        blackout_body(systems=["reports-db"], title="Reports audit"),
        format="json",
    )

    assert audit.status_code == 201, audit.json()
    assert (status(other.pk), status(job.pk)) == ("conflicted", "approved")


# --- when the colliding occurrence has passed ---------------------------------


def test_a_recurring_job_returns_when_the_cause_of_a_passed_occurrence_goes(
    requester, reviewer, admin, clock
):
    job = approved_job(requester=requester, reviewer=reviewer, rrule="FREQ=DAILY;COUNT=3")
    staff = as_user(admin)
    exam_day = staff.post("/api/v1/blackouts", blackout_body(), format="json").json()
    assert status(job.pk) == "conflicted"  # by its first occurrence, on the 10th
    clock.move_to(at(11, 0, 30))  # that occurrence is over; the 11th and 12th remain

    staff.delete(f"/api/v1/blackouts/{exam_day['id']}")

    assert status(job.pk) == "approved"


def gate(ci_client, job_id: int, moment: str):
    return ci_client.get(f"/api/v1/jobs/{job_id}/gate?at={moment}")


def test_a_recurring_job_held_by_a_passed_occurrence_is_approved_again_by_the_sweep(
    requester, reviewer, admin, clock
):
    job = approved_job(requester=requester, reviewer=reviewer, rrule="FREQ=DAILY;COUNT=3")
    as_user(admin).post("/api/v1/blackouts", blackout_body(), format="json")
    assert status(job.pk) == "conflicted"  # by its first occurrence, on the 10th
    clock.move_to(at(11, 0, 30))  # that occurrence is over; nothing else changes

    assert jobs_reevaluate_passed() == [job.pk]

    after = as_user(requester).get(f"/api/v1/jobs/{job.pk}").json()
    assert (after["status"], after["decision"]) == ("approved", "clear")
    assert after["history"][-1]["action"] == "conflict_cleared"


def test_after_the_sweep_the_gate_opens_in_the_next_window(requester, reviewer, admin, org, clock):
    job = approved_job(requester=requester, reviewer=reviewer, rrule="FREQ=DAILY;COUNT=3")
    as_user(admin).post("/api/v1/blackouts", blackout_body(), format="json")
    ci_client = bearer(token_for(org["infra"]))
    clock.move_to(at(11, 0, 30))
    assert gate(ci_client, job.pk, "2030-12-11T09:00:00Z").status_code == 423

    reevaluate_passed()

    assert gate(ci_client, job.pk, "2030-12-11T09:00:00Z").status_code == 200


def test_the_sweep_leaves_a_job_whose_refusal_still_stands(requester, reviewer, admin, clock):
    job = approved_job(requester=requester, reviewer=reviewer, rrule="FREQ=DAILY;COUNT=3")
    as_user(admin).post(
        "/api/v1/blackouts", blackout_body(end="2030-12-13T00:00:00Z"), format="json"
    )
    clock.move_to(at(11, 0, 30))  # the 11th and 12th are refused too
    history = len(as_user(requester).get(f"/api/v1/jobs/{job.pk}").json()["history"])

    swept = [jobs_reevaluate_passed(), jobs_reevaluate_passed()]

    assert swept == [[job.pk], []]  # the passed window's finding is gone after the first
    assert status(job.pk) == "conflicted"
    assert len(as_user(requester).get(f"/api/v1/jobs/{job.pk}").json()["history"]) == history

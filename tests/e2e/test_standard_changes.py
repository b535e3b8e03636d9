"""Standard changes: a team's pre-approved template, approved at once when clear."""

from datetime import timedelta

import pytest

from scheduling.models import MaintenanceJob, StandardChange, System
from scheduling.recurrence import MAX_JOB_SPAN
from tests import builders
from tests.builders import at
from tests.ci.clients import bearer, token_for
from tests.personas import as_user

pytestmark = pytest.mark.django_db(transaction=True)


def template_body(**overrides) -> dict:
    return {
        "team": "infra",
        "title": "Rotate grading-db logs",
        "systems": ["grading-db"],
        "impact": "degraded",
        "max_duration": "PT2H",
        **overrides,
    }


def define(person, **overrides) -> dict:
    answer = as_user(person).post(
        "/api/v1/standard-changes", template_body(**overrides), format="json"
    )
    assert answer.status_code == 201, answer.json()
    return answer.json()


def book(person, template: dict, **body):
    return as_user(person).post(
        f"/api/v1/standard-changes/{template['id']}/book",
        {"start": "2030-12-10T08:00:00Z", **body},
        format="json",
    )


def test_a_standard_change_booked_in_a_clear_window_is_approved_at_once(requester):
    template = define(requester)

    answer = book(requester, template)

    assert answer.status_code == 201, answer.json()
    job = answer.json()
    assert (job["status"], job["change_type"], job["template"]) == (
        "approved",
        "standard",
        template["id"],
    )
    assert (job["start"], job["end"]) == ("2030-12-10T08:00:00Z", "2030-12-10T10:00:00Z")
    assert job["reviews"] == []
    assert "standard change" in job["history"][-1]["reason"]


def test_a_standard_change_flagged_by_a_deadline_is_reviewed(requester):
    builders.deadline(due=at(10, 23), cohort_size=500, systems=["grading-api"])
    template = define(requester)

    job = book(requester, template).json()

    assert (job["status"], job["decision"]) == ("pending", "flag")
    assert sorted(r["team"] for r in job["reviews"]) == ["curriculum", "grading"]


def test_a_standard_change_refused_is_not_booked(requester):
    builders.blackout(start=at(10), end=at(11), title="Exam day")
    template = define(requester, impact="exclusive_lock")

    answer = book(requester, template)

    assert answer.status_code == 409
    assert answer.json()["code"] == "refused"
    assert "job" not in answer.json()


def test_a_standard_change_cannot_run_longer_than_its_maximum(requester):
    template = define(requester)

    answer = book(requester, template, end="2030-12-10T11:00:00Z")

    assert answer.status_code == 400
    assert "end" in answer.json()["errors"]


def test_only_the_team_defines_and_books_its_standard_changes(requester, reviewer):
    template = define(requester)

    defined = as_user(reviewer).post("/api/v1/standard-changes", template_body(), format="json")
    booked = book(reviewer, template)

    assert (defined.status_code, booked.status_code) == (403, 403)


def test_a_recurring_standard_change_books_every_occurrence(requester):
    template = define(requester, rrule="FREQ=WEEKLY;COUNT=3")

    job = book(requester, template).json()

    assert (job["status"], job["rrule"]) == ("approved", "FREQ=WEEKLY;COUNT=3")


def test_the_gate_says_the_change_type(requester, org, clock):
    template = define(requester)
    job = book(requester, template).json()
    clock.move_to(at(10, 9))

    gate = bearer(token_for(org["infra"])).get(f"/api/v1/jobs/{job['id']}/gate")

    assert gate.status_code == 200, gate.json()
    assert gate.json()["change_type"] == "standard"


def test_a_normal_job_is_of_type_normal_and_an_emergency_of_type_emergency(requester):
    normal = (
        as_user(requester)
        .post(
            "/api/v1/jobs",
            {
                "title": "Reindex",
                "team": "infra",
                "systems": ["reports-db"],
                "start": "2030-12-10T08:00:00Z",
                "end": "2030-12-10T12:00:00Z",
                "impact": "exclusive_lock",
            },
            format="json",
        )
        .json()
    )
    urgent = (
        as_user(requester)
        .post(
            f"/api/v1/jobs/{normal['id']}/submit",
            {"emergency": True, "justification": "Disk full"},
            format="json",
        )
        .json()
    )

    assert normal["change_type"] == "normal"
    assert urgent["change_type"] == "emergency"


def test_editing_a_standard_change_past_its_maximum_duration_is_refused(requester):
    job = book(requester, define(requester)).json()

    stretched = as_user(requester).patch(
        f"/api/v1/jobs/{job['id']}", {"end": "2030-12-10T14:00:00Z"}, format="json"
    )

    assert stretched.status_code == 400, stretched.json()
    assert "end" in stretched.json()["errors"]
    saved = as_user(requester).get(f"/api/v1/jobs/{job['id']}").json()
    assert (saved["end"], saved["status"]) == ("2030-12-10T10:00:00Z", "approved")


def test_editing_a_standard_change_within_its_maximum_duration_keeps_it_approved(requester):
    job = book(requester, define(requester)).json()

    moved = as_user(requester).patch(
        f"/api/v1/jobs/{job['id']}",
        {"start": "2030-12-11T08:00:00Z", "end": "2030-12-11T09:30:00Z"},
        format="json",
    )

    assert moved.status_code == 200, moved.json()
    assert moved.json()["status"] == "approved"


def test_editing_a_standard_change_onto_other_systems_is_refused(requester):
    job = book(requester, define(requester)).json()

    widened = as_user(requester).patch(
        f"/api/v1/jobs/{job['id']}", {"systems": ["grading-db", "reports-db"]}, format="json"
    )

    assert widened.status_code == 400, widened.json()
    assert "systems" in widened.json()["errors"]


def test_editing_a_standard_change_to_a_heavier_impact_is_refused(requester):
    job = book(requester, define(requester)).json()

    heavier = as_user(requester).patch(
        f"/api/v1/jobs/{job['id']}", {"impact": "exclusive_lock"}, format="json"
    )

    assert heavier.status_code == 400, heavier.json()
    assert "impact" in heavier.json()["errors"]


def test_a_standard_change_naming_another_teams_system_is_refused(requester):
    answer = as_user(requester).post(
        "/api/v1/standard-changes",
        template_body(systems=["grading-db", "grading-api"]),
        format="json",
    )

    assert answer.status_code == 400
    [message] = answer.json()["errors"]["systems"]
    assert "grading-api (Grading)" in message
    assert "grading-db" not in message.split("belong")[1]


def test_a_standard_change_whose_system_changed_hands_is_not_booked(requester, org):
    template = define(requester)
    System.objects.filter(slug="grading-db").update(team=org["grading"])

    answer = book(requester, template)

    assert answer.status_code == 403
    assert "grading-db" in answer.json()["message"]


@pytest.mark.parametrize("longest", ["P999999999D", "P3650000D", f"P{MAX_JOB_SPAN.days + 1}D"])
def test_a_maximum_duration_past_the_longest_job_is_a_400_on_max_duration(requester, longest):
    answer = as_user(requester).post(
        "/api/v1/standard-changes", template_body(max_duration=longest), format="json"
    )

    assert answer.status_code == 400, answer.content
    assert list(answer.json()["errors"]) == ["max_duration"]
    assert not StandardChange.objects.exists()


def test_booking_a_template_saved_too_long_to_end_is_a_400_not_a_500(requester):
    template = define(requester)
    # Saved before max_duration was bounded: its default end is past year 9999.
    StandardChange.objects.filter(pk=template["id"]).update(max_duration=timedelta(days=3650000))

    answer = book(requester, template)

    assert answer.status_code == 400, answer.content
    assert list(answer.json()["errors"]) == ["end"]
    assert not MaintenanceJob.objects.exists()


def test_booking_a_standard_change_in_the_past_is_a_409_and_books_nothing(requester):
    template = define(requester)

    answer = book(requester, template, start="2020-12-10T08:00:00Z")

    assert answer.status_code == 409, answer.content
    assert answer.json()["code"] == "window_ended"
    assert not MaintenanceJob.objects.exists()


def test_a_standard_change_moved_after_its_system_changed_hands_is_reviewed_by_the_new_owner(
    requester, org
):
    job = book(requester, define(requester)).json()
    System.objects.filter(slug="grading-db").update(team=org["grading"])

    moved = as_user(requester).patch(
        f"/api/v1/jobs/{job['id']}",
        {"start": "2030-12-11T08:00:00Z", "end": "2030-12-11T09:30:00Z"},
        format="json",
    )

    assert moved.status_code == 200, moved.json()
    assert moved.json()["status"] == "pending"
    assert [r["team"] for r in moved.json()["reviews"]] == ["grading"]


@pytest.mark.parametrize(
    ("title", "words"),
    [("\u200b\u2060", "Give the standard change a title."), ("Rotate\r\nlogs", "one line")],
    ids=["invisible", "two-lines"],
)
def test_a_standard_change_title_blank_to_the_eye_or_on_two_lines_is_a_400(requester, title, words):
    answer = as_user(requester).post(
        "/api/v1/standard-changes", template_body(title=title), format="json"
    )

    assert answer.status_code == 400, answer.content
    assert words in answer.json()["errors"]["title"][0]
    assert not StandardChange.objects.exists()

"""The freeze is a gate condition: it pauses approved jobs and refuses new bookings,
and changes no job's status. Scheduled freezes, with a zone and a rule, too."""

from datetime import UTC, datetime

import pytest

from scheduling.models import Freeze, MaintenanceJob
from tests import builders
from tests.builders import at
from tests.ci.clients import bearer, token_for
from tests.personas import as_user
from tests.workflow import approved_job, job_body

pytestmark = pytest.mark.django_db(transaction=True)


def switch(admin, active: bool, reason: str = "Accreditation visit"):
    answer = as_user(admin).put(
        "/api/v1/freeze", {"active": active, "reason": reason}, format="json"
    )
    assert answer.status_code == 200, answer.json()
    return answer.json()


def test_a_freeze_switched_on_and_off_leaves_the_approved_job_approved(
    requester, reviewer, admin, clock, org
):
    job = approved_job(requester=requester, reviewer=reviewer)
    ci = bearer(token_for(org["infra"]))
    clock.move_to(at(10, 9))

    switch(admin, True)
    during = ci.get(f"/api/v1/jobs/{job.pk}/gate")
    clock.move_to(at(10, 10))
    switch(admin, False)
    after = ci.get(f"/api/v1/jobs/{job.pk}/gate")

    assert during.status_code == 423
    assert [r["code"] for r in during.json()["reasons"]] == ["freeze"]
    assert after.status_code == 200, after.json()
    assert MaintenanceJob.objects.get(pk=job.pk).status == "approved"
    assert not MaintenanceJob.objects.get(pk=job.pk).history.filter(action="conflicted").exists()


def test_the_switch_answers_who_froze_change_and_since_when(admin, clock):
    answer = switch(admin, True, "Exam week")

    assert answer == {
        "active": True,
        "reason": "Exam week",
        "since": "2030-12-01T09:00:00Z",
        "by": "pat",
    }


def test_switching_off_keeps_the_freeze_in_the_history(admin, clock):
    switch(admin, True, "Exam week")
    clock.move_to(at(1, 12))

    switch(admin, False)

    [freeze] = as_user(admin).get("/api/v1/freezes").json()["results"]
    assert (freeze["reason"], freeze["created_by"], freeze["lifted_by"]) == (
        "Exam week",
        "pat",
        "pat",
    )
    assert (freeze["start"], freeze["end"]) == ("2030-12-01T09:00:00Z", "2030-12-01T12:00:00Z")


def test_submitting_inside_a_scheduled_freeze_is_refused(admin, requester):
    as_user(admin).post(
        "/api/v1/freezes",
        {"reason": "Exam day", "start": "2030-12-10T00:00:00Z", "end": "2030-12-11T00:00:00Z"},
        format="json",
    )

    booked = as_user(requester).post("/api/v1/jobs", job_body(), format="json").json()
    submitted = as_user(requester).post(f"/api/v1/jobs/{booked['id']}/submit")

    assert submitted.status_code == 409, submitted.json()
    assert submitted.json()["code"] == "refused"
    assert [f["kind"] for f in submitted.json()["findings"]] == ["freeze"]
    assert MaintenanceJob.objects.get(pk=booked["id"]).status == "draft"


def test_an_emergency_inside_a_freeze_goes_to_the_administrators(admin, requester):
    as_user(admin).post(
        "/api/v1/freezes",
        {"reason": "Exam day", "start": "2030-12-10T00:00:00Z", "end": "2030-12-11T00:00:00Z"},
        format="json",
    )
    booked = as_user(requester).post("/api/v1/jobs", job_body(), format="json").json()

    submitted = as_user(requester).post(
        f"/api/v1/jobs/{booked['id']}/submit",
        {"emergency": True, "justification": "The grading disk is full"},
        format="json",
    )

    assert submitted.status_code == 200, submitted.json()
    assert submitted.json()["status"] == "pending"
    assert "platform" in [r["team"] for r in submitted.json()["reviews"]]


def test_state_is_closed_only_while_a_scheduled_freeze_lasts(admin, ci_token):
    as_user(admin).post(
        "/api/v1/freezes",
        {
            "reason": "Open day",
            "start": "2030-12-03T08:00:00Z",
            "end": "2030-12-03T18:00:00Z",
            "systems": ["grading-api"],
        },
        format="json",
    )

    def state_at(moment: str, systems: str = "grading-db") -> dict:
        return ci_token.get("/api/v1/state", {"systems": systems, "at": moment}).json()

    assert state_at("2030-12-03T07:59:00Z")["state"] == "open"
    closed = state_at("2030-12-03T08:00:00Z")
    assert (closed["state"], [r["code"] for r in closed["reasons"]]) == ("closed", ["freeze"])
    assert state_at("2030-12-03T18:00:00Z")["state"] == "open"
    # reports-db neither is nor depends on grading-api: the freeze leaves it open.
    assert state_at("2030-12-03T09:00:00Z", "reports-db")["state"] == "open"


def test_slots_skip_a_scheduled_freeze(admin, ci_token):
    as_user(admin).post(
        "/api/v1/freezes",
        {"reason": "Open day", "start": "2030-12-01T09:00:00Z", "end": "2030-12-02T09:00:00Z"},
        format="json",
    )

    answer = ci_token.get(
        "/api/v1/slots", {"systems": "reports-db", "duration": "PT4H", "limit": 1}
    ).json()

    assert answer["slots"][0]["start"] == "2030-12-02T09:00:00+00:00"


def test_calling_off_a_scheduled_freeze_keeps_its_row(admin):
    created = (
        as_user(admin)
        .post(
            "/api/v1/freezes",
            {"reason": "Open day", "start": "2030-12-03T08:00:00Z", "end": "2030-12-03T18:00:00Z"},
            format="json",
        )
        .json()
    )

    answer = as_user(admin).delete(f"/api/v1/freezes/{created['id']}")

    assert answer.status_code == 200
    assert answer.json()["cancelled_by"] == "pat"
    assert Freeze.objects.filter(pk=created["id"]).exists()


def test_only_administrators_schedule_freezes(requester):
    answer = as_user(requester).post(
        "/api/v1/freezes", {"reason": "Mine", "start": "2030-12-03T08:00:00Z"}, format="json"
    )

    assert answer.status_code == 403


def test_a_recurring_freeze_needs_an_end_for_its_first_occurrence(admin):
    answer = as_user(admin).post(
        "/api/v1/freezes",
        {"reason": "Fridays", "start": "2030-12-06T12:00:00Z", "rrule": "FREQ=WEEKLY"},
        format="json",
    )

    assert answer.status_code == 400
    assert "end" in answer.json()["errors"]


# --- a recurring freeze in a named zone across a DST change --------------------


def london_freeze(admin):
    """Daily 09:00-17:00 Europe/London from Fri 28 March 2031 (clocks go forward on the 30th)."""
    answer = as_user(admin).post(
        "/api/v1/freezes",
        {
            "reason": "Exam season",
            "start": "2031-03-28T09:00:00",
            "end": "2031-03-28T17:00:00",
            "timezone": "Europe/London",
            "rrule": "FREQ=DAILY;COUNT=5",
        },
        format="json",
    )
    assert answer.status_code == 201, answer.json()


@pytest.mark.parametrize(
    ("moment", "frozen"),
    [
        # Saturday 29 March, GMT: local hours are UTC hours.
        (datetime(2031, 3, 29, 8, 59, tzinfo=UTC), False),
        (datetime(2031, 3, 29, 9, 0, tzinfo=UTC), True),
        (datetime(2031, 3, 29, 16, 59, tzinfo=UTC), True),
        (datetime(2031, 3, 29, 17, 0, tzinfo=UTC), False),
        # Monday 31 March, BST: 09:00-17:00 local is 08:00-16:00 UTC.
        (datetime(2031, 3, 31, 7, 59, tzinfo=UTC), False),
        (datetime(2031, 3, 31, 8, 0, tzinfo=UTC), True),
        (datetime(2031, 3, 31, 15, 59, tzinfo=UTC), True),
        (datetime(2031, 3, 31, 16, 0, tzinfo=UTC), False),
    ],
)
def test_a_london_freeze_closes_exactly_its_local_hours_across_the_dst_change(
    admin, ci_token, moment, frozen
):
    london_freeze(admin)

    answer = ci_token.get(
        "/api/v1/state", {"systems": "reports-db", "at": moment.isoformat()}
    ).json()

    assert answer["state"] == ("closed" if frozen else "open")


@pytest.fixture
def ci_token(org):
    builders.system("reports-db", owner=org["infra"])
    return bearer(token_for(org["infra"]))


def test_moving_an_approved_job_into_a_freeze_is_refused_and_keeps_its_window(
    requester, reviewer, admin
):
    job = approved_job(requester=requester, reviewer=reviewer)
    as_user(admin).post(
        "/api/v1/freezes",
        {"reason": "Exam day", "start": "2030-12-11T00:00:00Z", "end": "2030-12-12T00:00:00Z"},
        format="json",
    )

    moved = as_user(requester).patch(
        f"/api/v1/jobs/{job.pk}",
        {"start": "2030-12-11T08:00:00Z", "end": "2030-12-11T12:00:00Z"},
        format="json",
    )

    assert moved.status_code == 409, moved.json()
    after = MaintenanceJob.objects.get(pk=job.pk)
    assert (after.status, after.start) == ("approved", at(10, 8))


def test_a_freeze_without_a_reason_is_a_400_on_that_field(admin):
    answer = as_user(admin).post(
        "/api/v1/freezes", {"start": "2030-12-03T08:00:00Z"}, format="json"
    )

    assert answer.status_code == 400
    assert "reason" in answer.json()["errors"]


def test_a_scheduled_freeze_with_an_overlong_reason_is_a_400_on_that_field(admin):
    answer = as_user(admin).post(
        "/api/v1/freezes",
        {"reason": "x" * 5000, "start": "2030-12-03T08:00:00Z", "end": "2030-12-03T18:00:00Z"},
        format="json",
    )

    assert answer.status_code == 400
    assert "reason" in answer.json()["errors"]
    assert not Freeze.objects.exists()


def test_switching_the_freeze_on_with_an_overlong_reason_is_a_400_on_that_field(admin):
    answer = as_user(admin).put(
        "/api/v1/freeze", {"active": True, "reason": "x" * 5000}, format="json"
    )

    assert answer.status_code == 400
    assert "reason" in answer.json()["errors"]
    assert not Freeze.objects.exists()

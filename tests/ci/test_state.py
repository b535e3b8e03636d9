"""GET /api/v1/state: is a system open for ad-hoc change (no booking needed)?

Closed while anything refuses change on the systems or on what depends on
them. The clock starts at 2030-12-01 09:00 UTC (tests.personas.clock).
"""

from datetime import datetime

import pytest

from scheduling.services.freeze import freeze_set
from tests import builders
from tests.builders import at

pytestmark = pytest.mark.django_db


def state(client, **params):
    response = client.get("/api/v1/state", params)
    assert response.status_code == 200, response.json()
    return response.json()


def test_with_nothing_in_the_calendars_a_system_is_open_with_no_transition(ci, clock):
    answer = state(ci, systems="grading-db")

    assert answer == {
        "state": "open",
        "at": "2030-12-01T09:00:00+00:00",
        "next_transition": None,
        "reasons": [],
    }


def test_an_open_system_says_when_it_closes(ci, clock):
    builders.blackout(systems=["grading-db"], start=at(3, 8), end=at(3, 18))

    answer = state(ci, systems="grading-db")

    assert answer["state"] == "open"
    assert answer["next_transition"] == "2030-12-03T08:00:00+00:00"


def test_a_refuse_blackout_closes_the_system_until_it_ends(ci, clock):
    builders.blackout(systems=["grading-db"], start=at(1, 8), end=at(1, 18), title="Exam marking")

    answer = state(ci, systems="grading-db")

    assert answer["state"] == "closed"
    assert answer["next_transition"] == "2030-12-01T18:00:00+00:00"
    [reason] = answer["reasons"]
    assert reason["code"] == "refused_by_blackout"
    assert reason["until"] == "2030-12-01T18:00:00+00:00"
    assert reason["teams"] == ["platform"]
    assert "Exam marking" in reason["message"]


def test_a_flag_blackout_answers_flagged_with_its_reason_until_it_ends(ci, clock):
    builders.blackout(
        systems=["grading-db"], start=at(1, 8), end=at(1, 18), severity="flag", title="Open day"
    )

    answer = state(ci, systems="grading-db")

    assert answer["state"] == "flagged"
    assert answer["next_transition"] == "2030-12-01T18:00:00+00:00"
    [reason] = answer["reasons"]
    assert (reason["code"], reason["until"]) == (
        "flagged_by_blackout",
        "2030-12-01T18:00:00+00:00",
    )
    assert "Open day" in reason["message"]


def test_a_500_student_deadline_peak_answers_flagged_by_deadline(ci, clock):
    builders.deadline(due=at(2, 12), cohort_size=500, systems=["grading-api"])

    answer = state(ci, systems="grading-db")

    assert answer["state"] == "flagged"
    assert [r["code"] for r in answer["reasons"]] == ["flagged_by_deadline"]
    assert answer["reasons"][0]["until"] == "2030-12-02T18:00:00+00:00"


def test_an_open_system_says_when_a_flag_begins(ci, clock):
    builders.blackout(systems=["grading-db"], start=at(3, 8), end=at(3, 18), severity="flag")

    answer = state(ci, systems="grading-db")

    assert (answer["state"], answer["next_transition"]) == ("open", "2030-12-03T08:00:00+00:00")


def test_a_blackout_on_a_dependent_system_closes_the_system_it_depends_on(ci, clock):
    builders.blackout(systems=["submissions-web"], start=at(1, 8), end=at(1, 18))

    assert state(ci, systems="grading-db")["state"] == "closed"
    assert state(ci, systems="reports-db")["state"] == "open"


def test_a_change_freeze_closes_every_system_until_further_notice(ci, admin, clock):
    freeze_set(active=True, reason="exam week", by=admin)

    answer = state(ci, systems="reports-db")

    assert answer["state"] == "closed"
    assert answer["next_transition"] is None
    assert [r["code"] for r in answer["reasons"]] == ["freeze"]


def test_a_2000_student_deadline_peak_closes_for_exclusive_locks_until_the_traffic_ends(ci, clock):
    # The traffic runs from 48 hours before the due instant to 6 hours after it.
    builders.deadline(due=at(2, 12), cohort_size=2000, systems=["grading-api"])

    answer = state(ci, systems="grading-db")

    assert answer["state"] == "closed"
    assert answer["next_transition"] == "2030-12-02T18:00:00+00:00"
    [reason] = answer["reasons"]
    assert reason["code"] == "refused_by_deadline"
    assert reason["teams"] == ["curriculum"]
    assert reason["until"] == "2030-12-02T18:00:00+00:00"
    assert "2,000 students" in reason["message"]


def test_the_same_deadline_peak_leaves_degraded_work_open(ci, clock):
    builders.deadline(due=at(2, 12), cohort_size=2000, systems=["grading-api"])

    answer = state(ci, systems="grading-db", impact="degraded")

    # Not closed: degraded work under heavy traffic needs review, no more.
    assert answer["state"] == "flagged"


def test_a_small_cohort_does_not_close_the_system(ci, clock):
    builders.deadline(due=at(2, 12), cohort_size=300, systems=["grading-api"])

    assert state(ci, systems="grading-db")["state"] == "flagged"


def test_at_answers_for_another_instant(ci, clock):
    builders.blackout(systems=["grading-db"], start=at(1, 8), end=at(1, 18))

    later = state(ci, systems="grading-db", at="2030-12-01T19:00:00+01:00")
    during = state(ci, systems="grading-db", at="2030-12-01T17:59:00Z")

    assert later["state"] == "open"
    assert datetime.fromisoformat(later["at"]) == at(1, 18)
    assert during["state"] == "closed"


def test_several_systems_are_closed_when_any_of_them_is(ci, clock):
    builders.blackout(systems=["reports-db"], start=at(1, 8), end=at(1, 18))

    assert state(ci, systems="grading-db,reports-db")["state"] == "closed"
    assert state(ci, systems="grading-db")["state"] == "open"


def test_the_state_answers_with_and_without_a_trailing_slash(ci, clock):
    assert ci.get("/api/v1/state/?systems=grading-db").status_code == 200
    assert ci.get("/api/v1/state?systems=grading-db").status_code == 200


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"systems": "grading-db,nope"}, "systems"),
        ({}, "systems"),
        ({"systems": " , "}, "systems"),
        ({"systems": "grading-db", "at": "soon"}, "at"),
        ({"systems": "grading-db", "at": "2030-12-01T09:00:00"}, "at"),
        ({"systems": "grading-db", "at": "9999-12-31T23:00:00Z"}, "at"),
        ({"systems": "grading-db", "impact": "catastrophic"}, "impact"),
    ],
)
def test_bad_input_is_a_400_with_a_message_on_its_field(ci, org, params, field):
    response = ci.get("/api/v1/state", params)

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]
    assert response.json()["errors"][field][0]


def test_an_unknown_system_is_named_in_the_message(ci, org):
    response = ci.get("/api/v1/state", {"systems": "grading-db,nope"})

    assert response.json()["errors"]["systems"] == ["Unknown system(s): nope."]


def test_an_unencoded_plus_in_at_says_to_encode_it_or_use_z(ci, org):
    # The raw query string, as a shell user types it: `+` decodes to a space.
    response = ci.get("/api/v1/state?systems=grading-db&at=2030-12-01T19:00:00+01:00")

    assert response.status_code == 400
    [message] = response.json()["errors"]["at"]
    assert "encode `+` as `%2B` or use `Z`" in message

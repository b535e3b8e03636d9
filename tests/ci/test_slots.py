"""GET /api/v1/slots: the next clear windows of a duration, earliest first.

The clock starts at 2030-12-01 09:00 UTC (tests.personas.clock).
"""

from datetime import datetime, timedelta

import pytest

from scheduling import conflicts
from scheduling.services.freeze import freeze_set
from tests import builders
from tests.builders import at

pytestmark = pytest.mark.django_db


def slots(client, **params):
    response = client.get("/api/v1/slots", {"systems": "grading-db", "duration": "PT4H", **params})
    assert response.status_code == 200, response.json()
    return response.json()


def windows(answer) -> list[tuple[datetime, datetime]]:
    return [
        (datetime.fromisoformat(s["start"]), datetime.fromisoformat(s["end"]))
        for s in answer["slots"]
    ]


def busy_week():
    """Refuse blackouts on grading-db every day 08:00-20:00 from Dec 1 to Dec 7,
    and a 2,000-student deadline on grading-api (which depends on it) due Dec 10 12:00."""
    for day in range(1, 8):
        builders.blackout(
            systems=["grading-db"], start=at(day, 8), end=at(day, 20), title=f"Day {day}"
        )
    builders.deadline(due=at(10, 12), cohort_size=2000, systems=["grading-api"])


def test_slots_are_earliest_first_and_each_is_clear_when_checked_again(ci, clock):
    busy_week()

    found = windows(slots(ci, limit=8))

    assert [start for start, _ in found] == sorted(start for start, _ in found)
    assert found[0][0] == at(1, 20)
    # One per gap: six nights, the afternoon before the deadline's traffic, then after it.
    assert len(found) == 8
    for start, end in found:
        assert end - start == timedelta(hours=4)
        evaluation = conflicts.evaluate(
            systems=["grading-db"], start=start, end=end, impact="exclusive_lock"
        )
        assert (evaluation.decision, evaluation.findings) == ("clear", [])
    assert (found[-2][0], found[-1][0]) == (at(7, 20), at(10, 18))


def test_the_limit_is_honoured(ci, clock):
    busy_week()

    assert len(slots(ci, limit=2)["slots"]) == 2
    assert len(slots(ci, limit=1)["slots"]) == 1
    assert len(slots(ci)["slots"]) == 5  # the default


def test_slots_start_at_or_after_after_and_end_by_before(ci, clock):
    busy_week()

    answer = slots(ci, after="2030-12-03T20:00:30Z", before="2030-12-06T08:00:00Z", limit=50)

    found = windows(answer)
    assert found
    assert all(start >= at(3, 20, 0) + timedelta(seconds=30) for start, _ in found)
    assert all(end <= at(6, 8) for _, end in found)
    # Slots start on quarter hours, the first one after `after`, never before it.
    assert found[0][0] == at(3, 20, 15)


def test_without_after_slots_start_from_now_not_before(ci, clock):
    clock.move_to(at(1, 9, 7) + timedelta(seconds=12))

    first = windows(slots(ci, systems="reports-db", limit=1))[0]

    assert first[0] == at(1, 9, 15)


def test_degraded_work_finds_a_slot_inside_the_deadline_peak(ci, clock):
    builders.deadline(due=at(3, 12), cohort_size=2000, systems=["grading-api"])

    heavy = windows(slots(ci, limit=1))[0]
    light = windows(slots(ci, limit=1, impact="none"))[0]

    assert heavy[0] == at(3, 18)
    assert light[0] == at(1, 9)


def test_under_a_freeze_there_are_no_slots_and_a_sentence_says_why(ci, admin, clock):
    freeze_set(active=True, reason="exam week", by=admin)

    answer = slots(ci)

    assert answer["slots"] == []
    assert answer["reason"] == "A change freeze is on: no window is clear until it is lifted."


def test_a_range_too_busy_for_the_duration_says_why(ci, clock):
    builders.blackout(systems=["grading-db"], start=at(2, 0), end=at(2, 21))

    answer = slots(ci, after="2030-12-02T00:00:00Z", before="2030-12-03T00:00:00Z")

    assert answer["slots"] == []
    assert answer["reason"].startswith("No clear window of 4 hours on grading-api, grading-db")
    assert "blackout" in answer["reason"]


def test_slots_answer_with_and_without_a_trailing_slash(ci, clock):
    query = "?systems=grading-db&duration=PT4H"

    assert ci.get(f"/api/v1/slots/{query}").status_code == 200
    assert ci.get(f"/api/v1/slots{query}").status_code == 200


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"duration": "four hours"}, "duration"),
        ({"duration": "PT0S"}, "duration"),
        ({"duration": "-PT4H"}, "duration"),
        ({"duration": ""}, "duration"),
        ({"duration": "P32D"}, "duration"),
        ({"limit": "0"}, "limit"),
        ({"limit": "51"}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"after": "2030-12-02T08:00:00"}, "after"),
        ({"after": "when it's quiet"}, "after"),
        ({"before": "2030-12-01T10:00:00Z", "after": "2030-12-02T00:00:00Z"}, "before"),
        ({"systems": "nope"}, "systems"),
        ({"impact": "catastrophic"}, "impact"),
        ({"limit": "9" * 5000}, "limit"),
        ({"exclude_job": "0"}, "exclude_job"),
        # More digits than int() converts: was a ValueError and a 500.
        ({"exclude_job": "9" * 5000}, "exclude_job"),
    ],
)
def test_bad_input_is_a_400_with_a_message_on_its_field(ci, org, params, field):
    response = ci.get("/api/v1/slots", {"systems": "grading-db", "duration": "PT4H", **params})

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]


def test_a_missing_duration_is_a_400_on_duration(ci, org):
    response = ci.get("/api/v1/slots", {"systems": "grading-db"})

    assert response.status_code == 400
    assert response.json()["errors"] == {"duration": ["Give an ISO 8601 duration such as PT4H."]}


def test_a_before_in_the_past_without_after_says_it_is_in_the_past(ci, clock):
    response = ci.get(
        "/api/v1/slots",
        {"systems": "grading-db", "duration": "PT4H", "before": "2030-11-30T12:00:00Z"},
    )

    assert response.status_code == 400
    # No `after` was given: the range starts now, and the message says so.
    assert response.json()["errors"] == {
        "before": [
            "`before` must be later than now (2030-12-01T09:00Z): there are no slots in the past."
        ]
    }


def test_a_before_inside_the_quarter_hour_after_starts_names_the_rounded_start(ci, clock):
    response = ci.get(
        "/api/v1/slots",
        {
            "systems": "grading-db",
            "duration": "PT4H",
            "after": "2030-12-02T08:05:00Z",
            "before": "2030-12-02T08:10:00Z",
        },
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "before": [
            "`before` must be after 2030-12-02T08:15Z: slots start on quarter hours, "
            "the first one at or after `after`."
        ]
    }


def test_a_range_refused_by_a_blackout_does_not_suggest_another_impact(ci, clock):
    # A blackout refuses every impact: degraded work would find no slot either.
    builders.blackout(systems=["grading-db"], start=at(2, 0), end=at(2, 21))

    answer = slots(ci, after="2030-12-02T00:00:00Z", before="2030-12-03T00:00:00Z")
    degraded = slots(
        ci, after="2030-12-02T00:00:00Z", before="2030-12-03T00:00:00Z", impact="degraded"
    )

    assert degraded["slots"] == []
    assert answer["reason"].endswith("Try a shorter job or a later range.")


def test_a_range_busy_with_deadline_traffic_suggests_work_that_adds_no_load(ci, clock):
    # The traffic window of a deadline due Dec 3 12:00 covers Dec 1 12:00 to Dec 3 18:00.
    builders.deadline(due=at(3, 12), cohort_size=2000, systems=["grading-api"])
    after, before = "2030-12-01T12:00:00Z", "2030-12-03T18:00:00Z"

    answer = slots(ci, after=after, before=before)
    degraded = slots(ci, after=after, before=before, impact="degraded")
    light = slots(ci, after=after, before=before, impact="none")

    # Degraded work is flagged by the same traffic; only work of impact none is not.
    assert (answer["slots"], degraded["slots"]) == ([], [])
    assert light["slots"] != []
    assert answer["reason"].endswith(
        "Try a shorter job, a later range, or impact 'none' for work users do not notice."
    )


def test_an_after_in_the_past_offers_slots_from_now_on(ci, clock):
    answer = slots(ci, after="2030-11-01T00:00:00Z", limit=1)

    # Not November's windows, which nobody can book any more: from now (Dec 1, 09:00).
    assert windows(answer) == [(at(1, 9), at(1, 13))]


def test_a_range_wholly_in_the_past_is_a_400_saying_so(ci, clock):
    response = ci.get(
        "/api/v1/slots",
        {
            "systems": "grading-db",
            "duration": "PT4H",
            "after": "2030-11-01T00:00:00Z",
            "before": "2030-11-05T00:00:00Z",
        },
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "before": [
            "`before` must be later than now (2030-12-01T09:00Z): there are no slots in the past."
        ]
    }


def test_a_range_shorter_than_the_duration_says_so_rather_than_blaming_busy_windows(ci, clock):
    # Nothing is booked: the three hours before `before` cannot hold four.
    answer = slots(ci, before="2030-12-01T12:00:00Z")

    assert answer["slots"] == []
    assert answer["reason"] == (
        "No window of 4 hours fits between 2030-12-01 09:00 and 2030-12-01 12:00 UTC: "
        "the range is shorter than that."
    )

"""Suggested slots start on the first quarter hour at or after the moment asked about.

One rule (scheduling.engine.round_up) for the slots API, the engine and the
slots suggested beside a refused job: 14:00:30 becomes 14:15 everywhere.
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from scheduling import engine
from scheduling.services.transitions import suggestions
from tests import builders
from tests.builders import at

HALF_A_MINUTE_PAST_TWO = datetime(2030, 12, 1, 14, 0, 30, tzinfo=UTC)


def test_a_moment_just_past_a_quarter_hour_rounds_up_to_the_next_one():
    assert engine.round_up(HALF_A_MINUTE_PAST_TWO) == at(1, 14, 15)


def test_a_quarter_hour_stays_where_it_is():
    assert engine.round_up(at(1, 14)) == at(1, 14)


def test_rounding_is_the_same_in_a_zone_with_a_quarter_hour_offset():
    kathmandu = HALF_A_MINUTE_PAST_TWO.astimezone(ZoneInfo("Asia/Kathmandu"))

    assert engine.round_up(kathmandu) == at(1, 14, 15)


@pytest.mark.django_db
def test_the_slots_api_starts_at_the_next_quarter_hour(grading_stack, admin_client):
    response = admin_client.get(
        "/api/v1/slots",
        {
            "systems": "grading-db",
            "duration": "PT1H",
            "after": HALF_A_MINUTE_PAST_TWO.isoformat(),
            "limit": 1,
        },
    )

    assert response.status_code == 200, response.json()
    assert response.json()["slots"][0]["start"] == "2030-12-01T14:15:00+00:00"


@pytest.mark.django_db
def test_slots_suggested_for_a_started_job_never_start_before_now(grading_stack):
    job = builders.job(start=at(1, 14), end=at(1, 18))

    with time_machine.travel(HALF_A_MINUTE_PAST_TWO, tick=False):
        found = suggestions(job, HALF_A_MINUTE_PAST_TWO, limit=1)

    assert found[0].start == at(1, 14, 15)
    assert found[0].end - found[0].start == timedelta(hours=4)

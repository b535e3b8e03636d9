"""ISO 8601 durations too large for Python are bad input (400), never a 500.

A number of hours with twenty digits parses as a duration, then overflows
`timedelta`; a bare number is read as seconds and overflows the same way.
"""

import pytest

from tests.api.test_validation import assert_invalid
from tests.ci.clients import bearer, token_for
from tests.personas import as_user

pytestmark = pytest.mark.django_db

TOO_LONG = "PT99999999999999999999H"


def test_slots_for_a_duration_too_large_to_hold_is_a_400_on_duration(org):
    pipeline = bearer(token_for(org["infra"]))

    answer = pipeline.get("/api/v1/slots", {"systems": "grading-db", "duration": TOO_LONG})

    assert_invalid(answer, "duration")


def test_a_system_window_too_long_to_hold_is_a_400_on_maintenance_window(admin):
    window = {
        "rrule": "FREQ=WEEKLY;BYDAY=SU",
        "start_time": "02:00",
        "duration": TOO_LONG,
        "timezone": "Europe/London",
    }
    body = {"slug": "lab-db", "name": "Lab DB", "team": "infra", "maintenance_window": window}

    answer = as_user(admin).post("/api/v1/systems", body, format="json")

    assert_invalid(answer, "maintenance_window")


@pytest.mark.parametrize("interval", [TOO_LONG, 10**30, -(10**30)], ids=str)
def test_a_feed_interval_too_large_to_hold_is_a_400_on_interval(curriculum_staff, interval):
    body = {
        "url": "https://moodle.example.edu/calendar/export.ics",
        "format": "ics",
        "team": "curriculum",
        "cohort_size": 10,
        "interval": interval,
    }

    answer = as_user(curriculum_staff).post("/api/v1/deadline-feeds", body, format="json")

    assert_invalid(answer, "interval")

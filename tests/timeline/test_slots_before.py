"""GET /api/v1/slots?before=: the nearest clear windows before an instant, latest first.

The clock starts at 2030-12-01 09:00 UTC (tests.personas.clock).
"""

from datetime import datetime

import pytest

from tests import builders
from tests.builders import at
from tests.ci.clients import bearer, token_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def ci(org):
    return bearer(token_for(org["infra"]))


def starts(answer) -> list[datetime]:
    return [datetime.fromisoformat(s["start"]) for s in answer["slots"]]


def test_before_alone_gives_the_latest_clear_windows_first(ci, clock):
    # Refused every day 08:00-20:00, Dec 1-7: the nights are the gaps.
    for day in range(1, 8):
        builders.blackout(systems=["grading-db"], start=at(day, 8), end=at(day, 20))

    answer = ci.get(
        "/api/v1/slots",
        {"systems": "grading-db", "duration": "PT4H", "before": "2030-12-06T09:00:00Z", "limit": 3},
    ).json()

    # The gap before the deadline's day ends at 08:00 on Dec 6, then Dec 5, then Dec 4.
    assert starts(answer) == [at(6, 4), at(5, 4), at(4, 4)]


def test_before_alone_never_offers_a_window_in_the_past(ci, clock):
    answer = ci.get(
        "/api/v1/slots",
        {"systems": "reports-db", "duration": "PT4H", "before": "2030-12-01T15:00:00Z", "limit": 5},
    ).json()

    # One 4-hour window fits between now (09:00, so 09:15) and 15:00: the latest.
    assert starts(answer) == [at(1, 11)]

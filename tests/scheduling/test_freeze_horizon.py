"""A recurring freeze with no COUNT or UNTIL keeps closing its hours after the
first planning horizon: the daily horizon refresh rolls it, as it rolls blackouts."""

from datetime import timedelta

import pytest

from scheduling import tasks
from scheduling.freezes import freeze_active
from scheduling.services.freeze import freeze_schedule
from tests.builders import at
from tests.ci.clients import bearer, token_for

pytestmark = pytest.mark.django_db


def test_the_daily_horizon_refresh_rolls_an_endless_recurring_freeze(admin, clock, settings):
    settings.CLEARWAY_HORIZON_DAYS = 10
    freeze_schedule(
        reason="Nightly backups",
        start=at(2, 1),
        end=at(2, 3),
        rrule="FREQ=DAILY",
        by=admin,
    )
    later = at(2, 2) + timedelta(days=20)
    clock.move_to(later - timedelta(hours=2))

    tasks.refresh_horizon()

    assert freeze_active(at=later) is not None


def test_an_endless_recurring_freeze_stops_at_the_horizon_until_refreshed(admin, clock, settings):
    settings.CLEARWAY_HORIZON_DAYS = 10
    freeze_schedule(
        reason="Nightly backups", start=at(2, 1), end=at(2, 3), rrule="FREQ=DAILY", by=admin
    )

    assert freeze_active(at=at(2, 2) + timedelta(days=5)) is not None
    assert freeze_active(at=at(2, 2) + timedelta(days=20)) is None


def test_state_is_closed_in_a_rolled_occurrence_of_an_endless_freeze(admin, org, clock, settings):
    settings.CLEARWAY_HORIZON_DAYS = 10
    freeze_schedule(
        reason="Nightly backups", start=at(2, 1), end=at(2, 3), rrule="FREQ=DAILY", by=admin
    )
    later = at(2, 2) + timedelta(days=20)
    clock.move_to(later - timedelta(hours=2))

    tasks.refresh_horizon()
    answer = bearer(token_for(org["infra"])).get(
        "/api/v1/state", {"systems": "grading-db", "at": later.isoformat()}
    )

    assert answer.json()["state"] == "closed", answer.json()
    assert [r["code"] for r in answer.json()["reasons"]] == ["freeze"]

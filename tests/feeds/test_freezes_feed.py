"""Change freezes appear in blackouts.ics, recurring ones with their rule and zone."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from scheduling.services.freeze import freeze_cancel, freeze_schedule, freeze_set
from tests import builders
from tests.feeds.conftest import body_of

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")


def test_a_recurring_freeze_is_one_event_with_its_rule_in_its_zone(feeds, people, frozen_now):
    admin = builders.user("pat", staff=True)
    freeze = freeze_schedule(
        reason="Exam season",
        start=datetime(2031, 3, 28, 9, tzinfo=LONDON),
        end=datetime(2031, 3, 28, 17, tzinfo=LONDON),
        timezone="Europe/London",
        rrule="FREQ=DAILY;COUNT=5",
        by=admin,
    )

    event = feeds.events("blackouts")[f"freeze-{freeze.pk}@clearway"]

    assert str(event["SUMMARY"]) == "Change freeze (all systems)"
    assert event["RRULE"].to_ical() == b"FREQ=DAILY;COUNT=5"
    assert event["DTSTART"].dt == datetime(2031, 3, 28, 9, tzinfo=LONDON)
    assert "Exam season" in str(event["DESCRIPTION"])


def test_a_freeze_on_other_systems_is_not_in_a_systems_feed(feeds, people, frozen_now):
    admin = builders.user("pat", staff=True)
    builders.system("reports-db")
    freeze = freeze_schedule(
        reason="Reports audit",
        start=datetime(2030, 12, 5, 9, tzinfo=LONDON),
        end=datetime(2030, 12, 5, 17, tzinfo=LONDON),
        systems=["reports-db"],
        by=admin,
    )

    uid = f"freeze-{freeze.pk}@clearway"
    assert uid in feeds.events("blackouts", query="?systems=reports-db")
    assert uid not in feeds.events("blackouts", query="?systems=grading-api")


def test_a_called_off_freeze_leaves_the_feed(feeds, people, frozen_now):
    admin = builders.user("pat", staff=True)
    freeze = freeze_schedule(
        reason="Open day",
        start=datetime(2030, 12, 5, 9, tzinfo=LONDON),
        end=datetime(2030, 12, 5, 17, tzinfo=LONDON),
        by=admin,
    )

    freeze_cancel(freeze_id=freeze.pk, by=admin)

    assert f"freeze-{freeze.pk}@clearway" not in feeds.events("blackouts")


def test_editing_an_older_freezes_reason_changes_the_etag_and_the_text(feeds, people, frozen_now):
    admin = builders.user("pat", staff=True)
    # The scheduled freeze's reason sorts last, so the newest reason alone hid the edit.
    freeze_schedule(
        reason="zzz exam freeze",
        start=datetime(2030, 12, 20, 9, tzinfo=LONDON),
        end=datetime(2030, 12, 20, 17, tzinfo=LONDON),
        by=admin,
    )
    freeze_set(active=True, reason="aaa incident", by=admin)
    first = feeds.get("blackouts")
    assert b"aaa incident" in body_of(first)

    # Past the validator's lifetime: the ETag is worked out again.
    with time_machine.travel(frozen_now + timedelta(minutes=5), tick=False):
        freeze_set(active=True, reason="bbb database failover", by=admin)
        again = feeds.get("blackouts", If_None_Match=first["ETag"])

    assert again.status_code == 200
    assert b"bbb database failover" in body_of(again)
    assert again["ETag"] != first["ETag"]

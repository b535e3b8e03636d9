"""Each zone's VTIMEZONE, read by calendar libraries, puts occurrences where Clearway does.

recurring-ical-events (Python) and ical.js (Thunderbird, many web calendars)
expand a blackouts feed with weekly rules in five zones over two years: New
York and London (northern DST), Lagos (none), Sydney (southern DST) and Lord
Howe (a 30-minute change). ical.js trusts the feed's VTIMEZONE, so a zone
written the way it cannot read (one comma-separated RDATE list) moves every
summer occurrence by the DST offset.
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import recurring_ical_events

from blackouts.models import BlackoutOccurrence
from tests import builders
from tests.feeds import icaljs
from tests.feeds.conftest import body_of

ZONES = (
    "America/New_York",
    "Europe/London",
    "Africa/Lagos",
    "Australia/Sydney",
    "Australia/Lord_Howe",
)
TWO_YEARS = timedelta(days=730)


@pytest.fixture
def two_years(settings, frozen_now):
    # Clearway materialises occurrences up to its horizon: make it cover the comparison.
    settings.CLEARWAY_HORIZON_DAYS = 800
    return frozen_now, frozen_now + TWO_YEARS


@pytest.fixture
def weekly_blackouts(two_years, grading_stack):
    """Per zone: Sundays 01:00-03:00 (across most DST changes) and Wednesdays 09:00-10:00."""
    made = []
    for name in ZONES:
        zone = ZoneInfo(name)
        made.append(
            builders.blackout(
                title=f"Night {name}",
                start=datetime(2030, 12, 1, 1, 0, tzinfo=zone),
                end=datetime(2030, 12, 1, 3, 0, tzinfo=zone),
                timezone=name,
                rrule="FREQ=WEEKLY;BYDAY=SU",
            )
        )
        made.append(
            builders.blackout(
                title=f"Morning {name}",
                start=datetime(2030, 12, 4, 9, 0, tzinfo=zone),
                end=datetime(2030, 12, 4, 10, 0, tzinfo=zone),
                timezone=name,
                rrule="FREQ=WEEKLY;BYDAY=WE",
            )
        )
    return made


def clearway(start: datetime, end: datetime) -> set[tuple[str, datetime, datetime]]:
    return {
        (f"blackout-{o.blackout_id}@clearway", o.start, o.end)
        for o in BlackoutOccurrence.objects.filter(start__gte=start, start__lt=end)
    }


def feed_text(feeds) -> bytes:
    response = feeds.get("blackouts")
    assert response.status_code == 200
    return body_of(response)


def test_ical_js_expands_every_zone_like_clearway_over_two_years(
    feeds, weekly_blackouts, two_years
):
    icaljs.ensure_installed()

    found = icaljs.expand(feed_text(feeds), *two_years)

    expected = clearway(*two_years)
    assert len(expected) > 1000  # ten weekly rules, two years
    # (uid, start, end) of each side's extra occurrences, in sorted order.
    assert (sorted(found - expected)[:5], sorted(expected - found)[:5]) == ([], [])


def test_ical_js_puts_a_summer_new_york_morning_at_13_utc(feeds, weekly_blackouts, two_years):
    icaljs.ensure_installed()
    morning = next(b for b in weekly_blackouts if b.title == "Morning America/New_York")

    found = icaljs.expand(feed_text(feeds), *two_years)

    summer = datetime(2031, 7, 2, 13, 0, tzinfo=UTC)  # 09:00 EDT
    assert (f"blackout-{morning.pk}@clearway", summer, summer + timedelta(hours=1)) in found


def test_recurring_ical_events_expands_every_zone_like_clearway(feeds, weekly_blackouts, two_years):
    start, end = two_years
    calendar = feeds.calendar("blackouts")

    found = set()
    for event in recurring_ical_events.of(calendar).between(start, end):
        begin = event["DTSTART"].dt.astimezone(UTC)
        if begin >= start:
            found.add((str(event["UID"]), begin, event["DTEND"].dt.astimezone(UTC)))

    assert found == clearway(start, end)

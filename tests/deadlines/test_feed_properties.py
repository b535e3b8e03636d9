"""Property: syncing the same feed again changes nothing, whatever the feed holds."""

import itertools
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from icalendar import Calendar, Event

from deadlines.feeds.sync import feed_sync
from tests.builders import at
from tests.deadlines.helpers import feed, snapshot

pytestmark = pytest.mark.django_db

_paths = itertools.count()
ZONES = ["UTC", "Europe/London", "America/New_York", "Asia/Kolkata"]

events = st.fixed_dictionaries(
    {
        "uid": st.sampled_from([f"uid-{n}@lms.example.edu" for n in range(8)]),
        "title": st.text(
            alphabet=st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]),
            min_size=1,
            max_size=40,
        ).filter(str.strip),
        "minutes": st.integers(min_value=0, max_value=60 * 24 * 90),
        "zone": st.sampled_from(ZONES),
        "all_day": st.booleans(),
        "weekly": st.sampled_from([None, 1, 3]),
        "cohort": st.sampled_from([None, "CS 2026", "MATH 2027"]),
        "size": st.one_of(st.none(), st.integers(min_value=1, max_value=5000)),
        "systems": st.sampled_from([None, "grading-api", "grading-api submissions-web"]),
    }
)
feeds = st.lists(events, max_size=8, unique_by=lambda event: event["uid"])


def ics(items: list[dict]) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//Clearway tests//EN")
    calendar.add("version", "2.0")
    for item in items:
        event = Event()
        event.add("uid", item["uid"])
        event.add("summary", item["title"])
        start = (at(1, 6) + timedelta(minutes=item["minutes"])).astimezone(ZoneInfo(item["zone"]))
        event.add("dtstart", start.date() if item["all_day"] else start)
        if item["weekly"]:
            event.add("rrule", {"freq": "weekly", "count": item["weekly"]})
        for key, name in [
            ("cohort", "x-clearway-cohort"),
            ("size", "x-clearway-cohort-size"),
            ("systems", "x-clearway-systems"),
        ]:
            if item[key] is not None:
                event.add(name, str(item[key]))
        calendar.add_component(event)
    return calendar.to_ical()


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(first=feeds, second=feeds)
def test_syncing_the_same_feed_twice_changes_nothing(clock, lms, curriculum, first, second):
    path = f"/feed-{next(_paths)}.ics"
    target = feed(lms.serve(path, ics(first)), team=curriculum["team"])
    assert feed_sync(feed_id=target.pk).ok
    lms.serve(path, ics(second))  # an edited calendar: updates, withdrawals, restores
    assert feed_sync(feed_id=target.pk).ok
    before = snapshot(target)

    again = feed_sync(feed_id=target.pk)

    assert again.ok
    assert {key: n for key, n in again.changes.items() if key != "unchanged"} == {
        "created": 0,
        "updated": 0,
        "restored": 0,
        "withdrawn": 0,
    }
    assert snapshot(target) == before

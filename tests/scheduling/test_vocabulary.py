"""Words people read: rules, durations, statuses and message instants in their zone."""

from datetime import time, timedelta
from zoneinfo import ZoneInfo

import pytest

from scheduling.vocabulary import (
    duration_text,
    localise_text,
    rule_text,
    severity_word,
    status_word,
)

D = "\N{EN DASH}"
RULES = [
    ("FREQ=WEEKLY;BYDAY=SU", time(2), timedelta(hours=4), "Europe/London",
     f"every Sunday 02:00{D}06:00 London"),
    ("FREQ=MONTHLY;BYDAY=2TU;COUNT=14", time(22), timedelta(hours=3), "America/New_York",
     f"the second Tuesday of every month 22:00{D}01:00 New York, 14 times"),
    ("FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=-1", time(18), timedelta(hours=12), "Europe/London",
     f"the last day of every 3 months 18:00{D}06:00 London"),
    ("FREQ=DAILY", time(1, 30), timedelta(minutes=30), "UTC", f"every day 01:30{D}02:00 UTC"),
    ("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,FR", time(9), timedelta(hours=1), "Asia/Tokyo",
     f"every 2 weeks on Monday and Friday 09:00{D}10:00 Tokyo"),
    ("FREQ=YEARLY;BYMONTH=8;BYDAY=1SA", time(0), timedelta(days=2), "UTC",
     "the first Saturday of every year in August from 00:00 for 2 days UTC"),
]  # fmt: skip


@pytest.mark.parametrize(("rule", "start", "duration", "zone", "words"), RULES)
def test_a_rule_reads_as_words(rule, start, duration, zone, words):
    assert rule_text(rule, start=start, duration=duration, zone_name=zone) == words


def test_an_unusual_rule_keeps_its_text_beside_the_words():
    text = rule_text(
        "FREQ=HOURLY", start=time(1, 30), duration=timedelta(minutes=5), zone_name="UTC"
    )

    assert text == "FREQ=HOURLY at 01:30 UTC for 5 minutes"


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (timedelta(minutes=5), "5 minutes"),
        (timedelta(hours=1), "1 hour"),
        (timedelta(hours=4, minutes=30), "4 hours 30 minutes"),
        (timedelta(days=1, hours=2), "1 day 2 hours"),
    ],
)
def test_a_duration_reads_as_words_not_as_a_clock(value, words):
    assert duration_text(value) == words


def test_statuses_and_severities_have_one_word_each():
    assert status_word("pending") == "Pending review"
    assert status_word("conflicted") == "Conflicted"
    assert (severity_word("refuse"), severity_word("flag"), severity_word("clear")) == (
        "Refused",
        "Flagged",
        "Clear",
    )


def test_utc_instants_in_a_message_are_shown_in_the_viewers_zone_with_the_zone_named():
    text = "due 2030-12-12 23:59 UTC; outside 2030-12-01 10:00 and 2030-12-02 10:00 UTC"

    shown = localise_text(text, ZoneInfo("America/New_York"))

    assert shown == (
        "due Thu 12 Dec 2030 18:59 EST; outside Sun 1 Dec 2030 05:00 EST and "
        "Mon 2 Dec 2030 05:00 EST"
    )
    assert "UTC" not in shown

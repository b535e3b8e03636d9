"""A recurring feed or upload event yields at most CLEARWAY_FEED_MAX_OCCURRENCES deadlines."""

from datetime import UTC, datetime

from deadlines.feeds.parse_ics import feed_window, parse_ics
from tests.deadlines.test_feed_parse import calendar

NOW = datetime(2030, 12, 1, tzinfo=UTC)
DAILY_FOREVER = (
    "UID:q\nSUMMARY:Quiz\nDTSTART:20301202T230000Z\nRRULE:FREQ=DAILY;UNTIL=99991231T230000Z"
)


def test_a_daily_event_until_year_9999_is_one_row_error_not_hundreds_of_deadlines(settings):
    settings.CLEARWAY_FEED_MAX_OCCURRENCES = 100

    parsed = parse_ics(calendar(DAILY_FOREVER), window=feed_window(now=NOW))

    assert parsed.entries == []
    [problem] = parsed.problems
    assert problem.field == "RRULE"
    assert "more than 100 occurrences" in problem.message


def test_a_weekly_event_for_the_year_is_under_the_cap(settings):
    settings.CLEARWAY_FEED_MAX_OCCURRENCES = 100
    weekly = "UID:w\nSUMMARY:Essay\nDTSTART:20301202T230000Z\nRRULE:FREQ=WEEKLY;COUNT=52"

    parsed = parse_ics(calendar(weekly), window=feed_window(now=NOW))

    assert len(parsed.entries) == 52 and parsed.problems == []

"""Which occurrences are published as explicit instances (no database needed)."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from scheduling.calendar_feeds.overrides import dst_overrides
from scheduling.calendar_feeds.sources import FeedEvent

NEW_YORK = ZoneInfo("America/New_York")


def weekly(start: datetime, end: datetime, **kwargs) -> FeedEvent:
    return FeedEvent(
        uid="job-1@clearway",
        sequence=1,
        modified=datetime(2030, 12, 1, tzinfo=UTC),
        start=start,
        end=end,
        zone="America/New_York",
        summary="Vacuum",
        description="",
        url="",
        category="maintenance",
        rrule="FREQ=WEEKLY;COUNT=52",
        **kwargs,
    )


def test_only_the_windows_that_span_a_dst_change_are_listed():
    event = weekly(
        datetime(2030, 12, 1, 1, 30, tzinfo=NEW_YORK), datetime(2030, 12, 1, 3, 30, tzinfo=NEW_YORK)
    )

    found = {(o.recurrence_id.date(), o.end - o.start) for o in dst_overrides(event)}

    assert found == {
        (datetime(2031, 3, 9).date(), timedelta(hours=1)),
        (datetime(2031, 11, 2).date(), timedelta(hours=3)),
    }


def test_a_window_clear_of_the_changes_needs_none():
    event = weekly(
        datetime(2030, 12, 1, 9, 0, tzinfo=NEW_YORK), datetime(2030, 12, 1, 11, 0, tzinfo=NEW_YORK)
    )

    assert dst_overrides(event) == []


def test_an_excluded_occurrence_is_not_listed():
    spring = datetime(2031, 3, 9, 1, 30, tzinfo=NEW_YORK)
    event = weekly(
        datetime(2030, 12, 1, 1, 30, tzinfo=NEW_YORK),
        datetime(2030, 12, 1, 3, 30, tzinfo=NEW_YORK),
        exdates=(spring.astimezone(UTC),),
    )

    assert [o.recurrence_id.date() for o in dst_overrides(event)] == [datetime(2031, 11, 2).date()]


def test_a_start_in_the_spring_gap_keeps_its_length():
    event = weekly(
        datetime(2031, 3, 2, 2, 30, tzinfo=NEW_YORK), datetime(2031, 3, 2, 3, 15, tzinfo=NEW_YORK)
    )

    [gap] = dst_overrides(event)

    assert gap.recurrence_id.replace(tzinfo=None) == datetime(2031, 3, 9, 2, 30)
    assert gap.start == datetime(2031, 3, 9, 7, 30, tzinfo=UTC)  # read before the gap
    assert gap.end - gap.start == timedelta(minutes=45)

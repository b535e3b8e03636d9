"""Recurring rules expanded in their own zone, and the bounds a rule must respect. No database."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rrulestr

from scheduling import recurrence
from scheduling.errors import InvalidInput
from tests.bounded import rule_steps

NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
JOB_CAP = 500


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def windows(occurrences) -> list[tuple[datetime, datetime]]:
    return [(o.start, o.end) for o in occurrences]


def sundays_0130_new_york(first_sunday: datetime, count: int = 3):
    return recurrence.expand(
        rrule_text=f"FREQ=WEEKLY;BYDAY=SU;COUNT={count}",
        start=first_sunday.replace(hour=1, minute=30, tzinfo=NEW_YORK),
        end=first_sunday.replace(hour=3, minute=30, tzinfo=NEW_YORK),
        zone_name="America/New_York",
        cap=JOB_CAP,
    )


def job_rule(rrule_text: str, *, start=None, end=None, zone_name="UTC", cap=JOB_CAP):
    start = start or utc(2030, 12, 1, 8)  # a Sunday
    return recurrence.validate_rule(
        rrule_text=rrule_text,
        start=start,
        end=end or start + timedelta(hours=2),
        zone_name=zone_name,
        cap=cap,
        bounded=True,
    )


def rrule_error(excinfo) -> str:
    return " ".join(excinfo.value.fields["rrule"])


# --- DST ----------------------------------------------------------------------------


def test_new_york_sunday_window_keeps_local_hours_across_spring_forward():
    # 2030-03-10 02:00 EST jumps to 03:00 EDT.
    found = sundays_0130_new_york(datetime(2030, 3, 3))

    assert windows(found) == [
        (utc(2030, 3, 3, 6, 30), utc(2030, 3, 3, 8, 30)),
        (utc(2030, 3, 10, 6, 30), utc(2030, 3, 10, 7, 30)),
        (utc(2030, 3, 17, 5, 30), utc(2030, 3, 17, 7, 30)),
    ]


def test_new_york_sunday_window_keeps_local_hours_across_fall_back():
    # 2030-11-03 02:00 EDT falls back to 01:00 EST; 01:30 happens twice, the first counts.
    found = sundays_0130_new_york(datetime(2030, 10, 27))

    assert windows(found) == [
        (utc(2030, 10, 27, 5, 30), utc(2030, 10, 27, 7, 30)),
        (utc(2030, 11, 3, 5, 30), utc(2030, 11, 3, 8, 30)),
        (utc(2030, 11, 10, 6, 30), utc(2030, 11, 10, 8, 30)),
    ]


def test_new_york_window_shows_01_30_to_03_30_local_all_year():
    found = sundays_0130_new_york(datetime(2030, 1, 6), count=52)

    assert {
        (o.start.astimezone(NEW_YORK).time(), o.end.astimezone(NEW_YORK).time()) for o in found
    } == {(datetime(2030, 1, 1, 1, 30).time(), datetime(2030, 1, 1, 3, 30).time())}


def test_london_sunday_window_keeps_local_hours_across_both_transitions():
    # 2030-03-31 01:00 GMT -> 02:00 BST; 2030-10-27 02:00 BST -> 01:00 GMT.
    found = recurrence.expand(
        rrule_text="FREQ=WEEKLY;BYDAY=SU;UNTIL=20301103T235959Z",
        start=datetime(2030, 3, 24, 0, 30, tzinfo=LONDON),
        end=datetime(2030, 3, 24, 2, 30, tzinfo=LONDON),
        zone_name="Europe/London",
        cap=JOB_CAP,
    )

    by_day = {o.start.astimezone(LONDON).date().isoformat(): (o.start, o.end) for o in found}
    assert by_day["2030-03-24"] == (utc(2030, 3, 24, 0, 30), utc(2030, 3, 24, 2, 30))
    assert by_day["2030-03-31"] == (utc(2030, 3, 31, 0, 30), utc(2030, 3, 31, 1, 30))
    assert by_day["2030-04-07"] == (utc(2030, 4, 6, 23, 30), utc(2030, 4, 7, 1, 30))
    assert by_day["2030-10-27"] == (utc(2030, 10, 26, 23, 30), utc(2030, 10, 27, 2, 30))
    assert by_day["2030-11-03"] == (utc(2030, 11, 3, 0, 30), utc(2030, 11, 3, 2, 30))


def test_occurrence_starting_in_the_spring_forward_gap_still_ends_after_it_starts():
    # 02:30 does not exist on 2030-03-10 in New York; RFC 5545 reads it as 03:30 EDT.
    found = recurrence.expand(
        rrule_text="FREQ=WEEKLY;BYDAY=SU;COUNT=3",
        start=datetime(2030, 3, 3, 2, 30, tzinfo=NEW_YORK),
        end=datetime(2030, 3, 3, 3, 15, tzinfo=NEW_YORK),
        zone_name="America/New_York",
        cap=JOB_CAP,
    )

    assert all(o.start < o.end for o in found)
    assert found[1].start == utc(2030, 3, 10, 7, 30)


def test_range_query_around_a_transition_returns_only_the_overlapping_occurrence():
    found = recurrence.expand(
        rrule_text="FREQ=WEEKLY;BYDAY=SU",
        start=datetime(2030, 1, 6, 1, 30, tzinfo=NEW_YORK),
        end=datetime(2030, 1, 6, 3, 30, tzinfo=NEW_YORK),
        zone_name="America/New_York",
        after=utc(2030, 3, 10, 7),
        before=utc(2030, 3, 11),
        cap=JOB_CAP,
    )

    assert windows(found) == [(utc(2030, 3, 10, 6, 30), utc(2030, 3, 10, 7, 30))]


# --- UNTIL --------------------------------------------------------------------------------


def daily_0900_new_york(rrule_text: str, hour: int = 9):
    """Daily from Sunday 2030-12-01 at `hour` New York time (EST, UTC-5)."""
    return recurrence.expand(
        rrule_text=rrule_text,
        start=datetime(2030, 12, 1, hour, tzinfo=NEW_YORK),
        end=datetime(2030, 12, 1, hour + 1, tzinfo=NEW_YORK),
        zone_name="America/New_York",
        cap=JOB_CAP,
    )


def test_until_with_z_is_an_instant_in_utc():
    # 2030-12-03 09:00 EST is 14:00Z, after the 12:00Z limit.
    found = daily_0900_new_york("FREQ=DAILY;UNTIL=20301203T120000Z")

    assert [o.start for o in found] == [utc(2030, 12, 1, 14), utc(2030, 12, 2, 14)]


def test_until_without_z_is_local_time_in_the_rules_zone():
    # 12:00 New York is 17:00Z, so the 09:00 EST occurrence on the 3rd is included.
    found = daily_0900_new_york("FREQ=DAILY;UNTIL=20301203T120000")

    assert [o.start for o in found][-1] == utc(2030, 12, 3, 14)
    assert len(found) == 3


def test_until_is_inclusive_of_an_occurrence_starting_on_it():
    found = daily_0900_new_york("FREQ=DAILY;UNTIL=20301203T090000")

    assert len(found) == 3


def test_date_only_until_includes_that_whole_local_day():
    # 22:00 EST on the 3rd is 03:00Z on the 4th: still "on" 2030-12-03 locally.
    found = daily_0900_new_york("FREQ=DAILY;UNTIL=20301203", hour=22)

    assert [o.start for o in found] == [
        utc(2030, 12, 2, 3),
        utc(2030, 12, 3, 3),
        utc(2030, 12, 4, 3),
    ]


def test_lower_case_rule_with_rrule_prefix_is_accepted():
    found = daily_0900_new_york("RRULE:freq=daily;until=20301203t120000z")

    assert len(found) == 2


@pytest.mark.parametrize("until", ["2030", "20301340", "20301203T25", "2030-12-03"])
def test_malformed_until_is_rejected(until):
    with pytest.raises(InvalidInput) as excinfo:
        job_rule(f"FREQ=DAILY;UNTIL={until}")

    assert excinfo.value.fields["rrule"]


# --- EXDATE ---------------------------------------------------------------------------------


def test_exdate_removes_that_occurrence_only():
    found = recurrence.expand(
        rrule_text="FREQ=WEEKLY;BYDAY=SU;COUNT=4",
        start=datetime(2030, 3, 3, 1, 30, tzinfo=NEW_YORK),
        end=datetime(2030, 3, 3, 3, 30, tzinfo=NEW_YORK),
        zone_name="America/New_York",
        exdates=[datetime(2030, 3, 10, 1, 30, tzinfo=NEW_YORK)],
        cap=JOB_CAP,
    )

    assert [o.start.astimezone(NEW_YORK).day for o in found] == [3, 17, 24]


def test_exdate_given_in_utc_matches_the_local_occurrence():
    found = recurrence.expand(
        rrule_text="FREQ=WEEKLY;BYDAY=SU;COUNT=3",
        start=datetime(2030, 3, 3, 1, 30, tzinfo=NEW_YORK),
        end=datetime(2030, 3, 3, 3, 30, tzinfo=NEW_YORK),
        zone_name="America/New_York",
        exdates=[utc(2030, 3, 17, 5, 30)],
        cap=JOB_CAP,
    )

    assert [o.start.astimezone(NEW_YORK).day for o in found] == [3, 10]


def test_rule_whose_every_occurrence_is_excluded_is_rejected():
    start = utc(2030, 12, 1, 8)

    with pytest.raises(InvalidInput) as excinfo:
        recurrence.validate_rule(
            rrule_text="FREQ=DAILY;COUNT=2",
            start=start,
            end=start + timedelta(hours=1),
            zone_name="UTC",
            cap=JOB_CAP,
            bounded=True,
            exdates=[start, start + timedelta(days=1)],
        )

    assert "excluded" in rrule_error(excinfo)


# --- bounds and garbage ----------------------------------------------------------------------


def test_bounded_rule_is_returned_normalised():
    assert job_rule("RRULE:freq=weekly;count=3") == "FREQ=WEEKLY;COUNT=3"


def test_job_rule_without_count_or_until_is_rejected_with_a_clear_message():
    with pytest.raises(InvalidInput) as excinfo:
        job_rule("FREQ=WEEKLY;BYDAY=SU")

    assert "needs an end" in rrule_error(excinfo)
    assert "COUNT" in rrule_error(excinfo)
    assert "UNTIL" in rrule_error(excinfo)


def test_unbounded_rule_is_accepted_where_bounds_are_not_required():
    start = utc(2030, 12, 1, 8)

    text = recurrence.validate_rule(
        rrule_text="FREQ=WEEKLY;BYDAY=SU",
        start=start,
        end=start + timedelta(hours=2),
        zone_name="UTC",
        cap=5000,
        bounded=False,
        before=start + timedelta(days=400),
    )

    assert text == "FREQ=WEEKLY;BYDAY=SU"


def test_count_over_the_cap_is_rejected():
    with pytest.raises(InvalidInput) as excinfo:
        job_rule(f"FREQ=DAILY;COUNT={JOB_CAP + 1}")

    assert str(JOB_CAP) in rrule_error(excinfo)


def test_count_at_the_cap_is_accepted():
    assert job_rule(f"FREQ=DAILY;COUNT={JOB_CAP}") == f"FREQ=DAILY;COUNT={JOB_CAP}"


def test_until_yielding_more_than_the_cap_is_rejected():
    with pytest.raises(InvalidInput) as excinfo:
        job_rule("FREQ=HOURLY;UNTIL=20311201T000000Z")

    assert str(JOB_CAP) in rrule_error(excinfo)


def test_interval_zero_is_rejected():
    with pytest.raises(InvalidInput) as excinfo:
        job_rule("FREQ=WEEKLY;INTERVAL=0;COUNT=3")

    assert "INTERVAL" in rrule_error(excinfo)


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "hello",
        "FREQ=FORTNIGHTLY;COUNT=2",
        "FREQ=WEEKLY;BYDAY=XX;COUNT=2",
        "FREQ=WEEKLY;BYHOUR=25;COUNT=2",
        "FREQ=WEEKLY;COUNT=two",
        "FREQ=WEEKLY;COUNT=-1",
        "FREQ=WEEKLY;COUNT=",
        "FREQ=WEEKLY;COUNT=2;UNTIL=20311231T000000Z",
        "FREQ=WEEKLY;NONSENSE=1;COUNT=2",
        "COUNT=2",
    ],
)
def test_garbage_rule_is_rejected_on_the_rrule_field(garbage):
    with pytest.raises(InvalidInput) as excinfo:
        job_rule(garbage)

    assert excinfo.value.fields["rrule"]


def test_secondly_rule_without_an_end_is_capped_instead_of_hanging():
    start = utc(2030, 12, 1, 8)

    with rule_steps() as steps, pytest.raises(InvalidInput) as excinfo:
        recurrence.validate_rule(
            rrule_text="FREQ=SECONDLY",
            start=start,
            end=start + timedelta(seconds=1),
            zone_name="UTC",
            cap=5000,
            bounded=False,
            before=start + timedelta(days=400),
        )

    assert "5000" in rrule_error(excinfo)
    # About two steps per occurrence up to the cap; unbounded, 400 days of seconds.
    assert steps.count < 20_000


def test_expanding_an_endless_secondly_rule_without_a_range_stops_at_the_cap():
    start = utc(2030, 12, 1, 8)

    with pytest.raises(InvalidInput):
        recurrence.expand(
            rrule_text="FREQ=SECONDLY",
            start=start,
            end=start + timedelta(seconds=1),
            zone_name="UTC",
            cap=100,
        )


@pytest.mark.parametrize(
    "impossible",
    [
        "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30;COUNT=3",
        "FREQ=HOURLY;BYMONTH=4,6;BYMONTHDAY=31,-31;UNTIL=20311201T000000Z",
    ],
)
def test_rule_that_can_never_occur_is_rejected_quickly(impossible):
    with rule_steps() as steps, pytest.raises(InvalidInput) as excinfo:
        job_rule(impossible)

    assert "never" in rrule_error(excinfo)
    # Rejected before dateutil walks towards the year 9999 looking for it.
    assert steps.count < 1_000


def test_monthly_rule_on_the_31st_skips_short_months():
    start = utc(2030, 12, 31, 8)

    found = recurrence.expand(
        rrule_text="FREQ=MONTHLY;BYMONTHDAY=31;COUNT=3",
        start=start,
        end=start + timedelta(hours=1),
        zone_name="UTC",
        cap=JOB_CAP,
    )

    assert [o.start.date().isoformat() for o in found] == [
        "2030-12-31",
        "2031-01-31",
        "2031-03-31",
    ]


def test_leap_day_rule_is_accepted():
    leap_day = utc(2032, 2, 29, 8)

    assert job_rule("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;COUNT=2", start=leap_day)


def test_minutely_rule_anchored_long_ago_expands_a_range_quickly():
    # Allowed windows are anchored on 2000-01-01; dateutil would walk every minute since.
    anchor = datetime(2000, 1, 1, 2, tzinfo=NEW_YORK)

    with rule_steps() as steps:
        found = recurrence.expand(
            rrule_text="FREQ=MINUTELY;INTERVAL=15",
            start=anchor,
            end=anchor + timedelta(minutes=5),
            zone_name="America/New_York",
            after=utc(2030, 12, 1),
            before=utc(2030, 12, 2),
            cap=5000,
        )

    # A day of quarter hours; walking every minute since 2000 takes two million steps.
    assert steps.count < 1_000
    assert len(found) == 96
    assert {o.start.minute for o in found} == {0, 15, 30, 45}


@pytest.mark.parametrize(
    "rule",
    ["FREQ=HOURLY;INTERVAL=5", "FREQ=HOURLY;INTERVAL=7;BYDAY=SU", "FREQ=MINUTELY;INTERVAL=50"],
)
def test_sub_daily_rule_expanded_far_from_its_start_matches_a_full_walk(rule):
    # Across New York's spring-forward, where wall-clock steps and real time differ.
    anchor = datetime(2029, 1, 1, 2, 10, tzinfo=NEW_YORK)
    after, before = utc(2030, 3, 9), utc(2030, 3, 12)
    full_walk = [
        local.astimezone(UTC)
        for local in rrulestr(rule, dtstart=anchor).between(
            after.astimezone(NEW_YORK), before.astimezone(NEW_YORK), inc=True
        )
    ]

    found = recurrence.expand(
        rrule_text=rule,
        start=anchor,
        end=anchor + timedelta(minutes=1),
        zone_name="America/New_York",
        after=after,
        before=before,
        cap=5000,
    )

    assert [o.start for o in found if o.start >= after] == full_walk
    assert full_walk


def test_start_that_is_not_the_rules_first_occurrence_is_rejected():
    monday = utc(2030, 12, 2, 8)

    with pytest.raises(InvalidInput) as excinfo:
        job_rule("FREQ=WEEKLY;BYDAY=SU;COUNT=3", start=monday)

    assert "first occurrence" in rrule_error(excinfo)


def test_first_occurrence_is_checked_in_the_rules_zone():
    # Sunday 20:00 in New York is Monday 01:00 UTC: a Sunday rule, read locally.
    sunday_evening = datetime(2030, 12, 1, 20, tzinfo=NEW_YORK)

    text = job_rule(
        "FREQ=WEEKLY;BYDAY=SU;COUNT=3", start=sunday_evening, zone_name="America/New_York"
    )

    assert text == "FREQ=WEEKLY;BYDAY=SU;COUNT=3"


def test_end_not_after_start_is_rejected_on_the_end_field():
    start = utc(2030, 12, 1, 8)

    with pytest.raises(InvalidInput) as excinfo:
        recurrence.expand(
            rrule_text="FREQ=DAILY;COUNT=2", start=start, end=start, zone_name="UTC", cap=10
        )

    assert excinfo.value.fields["end"]


# --- zones --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["Mars/Olympus_Mons", "", "../etc/passwd", "America", "x" * 300])
def test_unknown_zone_is_invalid_input_on_the_timezone_field(name):
    with pytest.raises(InvalidInput) as excinfo:
        recurrence.zone(name)

    assert "IANA" in excinfo.value.fields["timezone"][0]


def test_a_series_starting_in_the_second_pass_of_a_repeated_hour_is_refused_saying_why():
    # 2030-11-03: New York's 01:00-02:00 happens twice; 06:00 UTC is the second 01:00 (EST).
    with pytest.raises(InvalidInput) as excinfo:
        job_rule("FREQ=DAILY;COUNT=3", start=utc(2030, 11, 3, 6), zone_name="America/New_York")

    message = rrule_error(excinfo)
    assert "happens twice in America/New_York" in message
    assert "(05:00 UTC)" in message


def test_a_series_starting_in_the_first_pass_of_a_repeated_hour_is_accepted():
    text = job_rule("FREQ=DAILY;COUNT=3", start=utc(2030, 11, 3, 5), zone_name="America/New_York")

    assert text == "FREQ=DAILY;COUNT=3"


# --- parts dateutil reads late or never: refused on `rrule`, never a 500 ---


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        ("FREQ=DAILY;COUNT=²", "COUNT must be a whole number"),
        ("FREQ=DAILY;INTERVAL=²;COUNT=2", "INTERVAL must be a whole number"),
        ("FREQ=DAILY;COUNT=99999999999999999999", "from 1 to 2,147,483,647"),
        ("FREQ=DAILY;INTERVAL=99999999999;COUNT=2", "from 1 to 2,147,483,647"),
        ("FREQ=MONTHLY;BYDAY=99MO;COUNT=3", "ordinal must be 1 to 5"),
        ("FREQ=MONTHLY;BYDAY=-6FR;COUNT=3", "ordinal must be 1 to 5"),
        ("FREQ=YEARLY;BYDAY=+60MO;COUNT=2", "ordinal must be 1 to 53"),
        ("FREQ=MONTHLY;BYDAY=+0MO;COUNT=3", "ordinal must be"),
        ("FREQ=YEARLY;BYMONTH=13;COUNT=3", "BYMONTH=13 is outside 1 to 12"),
        ("FREQ=YEARLY;BYMONTH=0;COUNT=3", "BYMONTH=0 is outside"),
        ("FREQ=YEARLY;BYWEEKNO=99;COUNT=3", "BYWEEKNO=99 is outside"),
        ("FREQ=YEARLY;BYYEARDAY=999;COUNT=3", "BYYEARDAY=999 is outside"),
        ("FREQ=MONTHLY;BYMONTHDAY=²;COUNT=3", "not a whole number"),
        ("FREQ=HOURLY;BYHOUR=25;COUNT=3", "BYHOUR=25 is outside 0 to 23"),
        ("FREQ=HOURLY;BYMINUTE=60;COUNT=3", "BYMINUTE=60 is outside 0 to 59"),
        ("FREQ=DAILY;COUNT=3;COUNT=4", "COUNT given twice"),
        ("FREQ=YEARLY;BYMONTH=" + "1" * 5000 + ";COUNT=3", "not a whole number"),
        ("FREQ=DAILY;COUNT=" + "9" * 5000, "COUNT must be a whole number"),
        ("FREQ=MONTHLY;BYDAY=²MO;COUNT=3", "not a weekday"),
    ],
)
def test_a_part_no_calendar_has_is_refused_on_rrule(rule, words):
    with pytest.raises(InvalidInput) as refused:
        job_rule(rule)

    assert words in " ".join(refused.value.fields["rrule"])


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=MONTHLY;BYDAY=1MO,-1FR;COUNT=3",
        "FREQ=YEARLY;BYDAY=20MO;COUNT=3",
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=-1;COUNT=3",
        "FREQ=DAILY;BYHOUR=0,23;BYMINUTE=0;COUNT=3",
    ],
)
def test_parts_at_the_edges_of_their_ranges_are_accepted(rule):
    walked = recurrence.build_rule(rrule_text=rule, dtstart=datetime(2030, 12, 1, tzinfo=LONDON))

    assert len(list(walked)) == 3


def test_a_rule_stored_before_a_check_existed_still_expands():
    """The part checks are for rules given now: the daily refresh and the gate
    expand stored rows, and must not fail on one nobody just sent."""
    stored = "FREQ=DAILY;BYHOUR=8;BYHOUR=9;COUNT=3"  # dateutil keeps the last

    found = recurrence.expand(
        rrule_text=stored,
        start=utc(2030, 12, 1, 9),
        end=utc(2030, 12, 1, 10),
        zone_name="UTC",
        cap=JOB_CAP,
    )

    assert [o.start for o in found] == [utc(2030, 12, d, 9) for d in (1, 2, 3)]
    with pytest.raises(InvalidInput):
        job_rule(stored, start=utc(2030, 12, 1, 9), end=utc(2030, 12, 1, 10))

"""Reading iCalendar and JSON feeds, without a database or a network."""

import json
from datetime import UTC, datetime

import pytest

from deadlines.feeds.errors import FeedError
from deadlines.feeds.parse_ics import Window, parse_ics
from deadlines.feeds.parse_json import parse_json

WINDOW = Window(
    since=datetime(2030, 11, 30, 18, tzinfo=UTC),
    until=datetime(2031, 12, 31, tzinfo=UTC),
    max_events=100,
    max_occurrences=500,
)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def calendar(*events: str, head: str = "", latin1: bool = False) -> bytes:
    body = "".join(f"BEGIN:VEVENT\r\n{event.strip()}\r\nEND:VEVENT\r\n" for event in events)
    text = f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n{head}{body}END:VCALENDAR\r\n"
    text = text.replace("\r\n", "\n").replace("\n", "\r\n")
    return text.encode("latin-1" if latin1 else "utf-8")


def dues(data: bytes, **kwargs) -> dict[str, datetime]:
    parsed = parse_ics(data, window=WINDOW, **kwargs)
    assert parsed.problems == []
    return {entry.uid: entry.due.astimezone(UTC) for entry in parsed.entries}


def test_floating_times_and_all_day_events_are_read_in_the_feed_zone():
    data = calendar(
        "UID:a\nSUMMARY:A\nDTSTART:20301212T235900",
        "UID:b\nSUMMARY:B\nDTSTART;VALUE=DATE:20301212\nDTEND;VALUE=DATE:20301214",
        "UID:c\nSUMMARY:C\nDTSTART;VALUE=DATE:20301212",
        head="X-WR-TIMEZONE:Australia/Sydney\r\n",
    )

    assert dues(data) == {
        "a": utc(2030, 12, 12, 12, 59),  # 23:59 in Sydney (UTC+11 in December)
        "b": utc(2030, 12, 13, 13),  # two days: due when the 13th ends in Sydney
        "c": utc(2030, 12, 12, 13),
    }


def test_duration_windows_and_windows_zone_names():
    data = calendar(
        "UID:a\nSUMMARY:A\nDTSTART:20301212T100000Z\nDURATION:PT2H",
        "UID:b\nSUMMARY:B\nDTSTART;TZID=W. Europe Standard Time:20301212T100000",
    )

    assert dues(data) == {"a": utc(2030, 12, 12, 12), "b": utc(2030, 12, 12, 9)}


def test_all_day_recurring_events_skip_their_exdates():
    data = calendar(
        "UID:w\nSUMMARY:Weekly essay\nDTSTART;VALUE=DATE:20301202\n"
        "RRULE:FREQ=WEEKLY;COUNT=3\nEXDATE;VALUE=DATE:20301209",
        "UID:r\nSUMMARY:Extra\nDTSTART:20301202T100000Z\nRRULE:FREQ=YEARLY;COUNT=1\n"
        "RDATE:20301205T100000Z",
        head="X-WR-TIMEZONE:Europe/Paris\r\n",
    )

    assert dues(data) == {
        "w#20301201T230000Z": utc(2030, 12, 2, 23),  # midnight ending the 2nd, in Paris
        "w#20301215T230000Z": utc(2030, 12, 16, 23),
        "r#20301202T100000Z": utc(2030, 12, 2, 10),
        "r#20301205T100000Z": utc(2030, 12, 5, 10),
    }


@pytest.mark.parametrize(
    ("event", "field", "words"),
    [
        ("UID:x\nSUMMARY:X\nDTSTART:2030bad", "DTSTART", "cannot be read"),
        ("UID:x\nSUMMARY:X\nDTSTART:20301212T100000Z\nDTEND:nope", "DTEND", "cannot be read"),
        ("UID:x\nSUMMARY:X", "DTSTART", "no DTSTART"),
        ("UID:x\nSUMMARY:X\nDTSTART:20301212T100000Z\nDTEND:20301211T100000Z", "DTEND", "before"),
        ("SUMMARY:X\nDTSTART:20301212T100000Z", "UID", "no UID"),
        ("UID:x\nDTSTART:20301212T100000Z", "SUMMARY", "no title"),
        ("UID:x\nSUMMARY:X\nDTSTART:20301212T100000Z\nRRULE:FREQ=BOGUS", "RRULE", "cannot"),
        (
            "UID:x\nSUMMARY:X\nDTSTART:20301212T100000Z\nX-CLEARWAY-COHORT-SIZE:lots",
            "X-CLEARWAY-COHORT-SIZE",
            "not a cohort size",
        ),
        (
            # More digits than Python converts: was a ValueError (a 500 on upload).
            "UID:x\nSUMMARY:X\nDTSTART:20301212T100000Z\nX-CLEARWAY-COHORT-SIZE:" + "9" * 5000,
            "X-CLEARWAY-COHORT-SIZE",
            "not a cohort size",
        ),
    ],
)
def test_an_unreadable_event_is_skipped_and_named(event, field, words):
    data = calendar("UID:ok\nSUMMARY:Fine\nDTSTART:20301212T100000Z", event)

    parsed = parse_ics(data, window=WINDOW)

    assert [entry.uid for entry in parsed.entries] == ["ok"]
    [problem] = parsed.problems
    assert problem.where.startswith("event 2")
    assert problem.field == field
    assert words in problem.message


GIVEN_TWICE = {
    "SUMMARY": "UID:x\nSUMMARY:Essay\nSUMMARY:Essay (resit)\nDTSTART:20301212T100000Z",
    "DTSTART": "UID:x\nSUMMARY:Essay\nDTSTART:20301212T100000Z\nDTSTART:20301213T100000Z",
    "DTEND": "UID:x\nSUMMARY:Essay\nDTSTART:20301212T100000Z\n"
    "DTEND:20301212T120000Z\nDTEND:20301213T120000Z",
    "X-CLEARWAY-COHORT-SIZE": "UID:x\nSUMMARY:Essay\nDTSTART:20301212T100000Z\n"
    "X-CLEARWAY-COHORT-SIZE:40\nX-CLEARWAY-COHORT-SIZE:2000",
    "STATUS": "UID:x\nSUMMARY:Essay\nDTSTART:20301212T100000Z\nSTATUS:CONFIRMED\nSTATUS:CANCELLED",
    "UID": "UID:x\nUID:y\nSUMMARY:Essay\nDTSTART:20301212T100000Z",
}


@pytest.mark.parametrize("name", GIVEN_TWICE)
def test_an_event_giving_a_property_twice_is_skipped_naming_it(name):
    # The first value was used without a word: a cohort of 40, not 2,000.
    data = calendar("UID:ok\nSUMMARY:Fine\nDTSTART:20301212T100000Z", GIVEN_TWICE[name])

    parsed = parse_ics(data, window=WINDOW)

    assert [entry.uid for entry in parsed.entries] == ["ok"]
    [problem] = parsed.problems
    assert (problem.where, problem.field) == ("event 2 (UID x)", name)
    assert f"{name} more than once" in problem.message


def test_a_recurring_event_in_a_zone_without_an_iana_name_is_skipped():
    zone = (
        "BEGIN:VTIMEZONE\r\nTZID:Campus Time\r\nBEGIN:STANDARD\r\nDTSTART:19700101T000000\r\n"
        "TZOFFSETFROM:+0100\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
    )
    data = calendar(
        "UID:once\nSUMMARY:Once\nDTSTART;TZID=Campus Time:20301212T100000",
        "UID:weekly\nSUMMARY:Weekly\nDTSTART;TZID=Campus Time:20301212T100000\n"
        "RRULE:FREQ=WEEKLY;COUNT=2",
        head=zone,
    )

    parsed = parse_ics(data, window=WINDOW)

    assert [(e.uid, e.due.astimezone(UTC)) for e in parsed.entries] == [
        ("once", utc(2030, 12, 12, 9))
    ]
    assert parsed.problems[0].field == "DTSTART"
    assert "IANA" in parsed.problems[0].message


def test_a_duplicate_uid_keeps_the_first_event():
    data = calendar(
        "UID:x\nSUMMARY:First\nDTSTART:20301212T100000Z",
        "UID:x\nSUMMARY:Second\nDTSTART:20301213T100000Z",
    )

    parsed = parse_ics(data, window=WINDOW)

    assert [entry.title for entry in parsed.entries] == ["First"]
    assert parsed.problems[0].uid == "", "the first event's deadline is not held back"


LAB_MOVED_TWICE = (
    "UID:lab\nSUMMARY:Lab\nDTSTART:20301210T100000Z\nRRULE:FREQ=DAILY;COUNT=3",
    "UID:lab\nSUMMARY:Lab\nRECURRENCE-ID:20301211T100000Z\nDTSTART:20301211T090000Z",
    "UID:lab\nSUMMARY:Lab\nRECURRENCE-ID:20301211T100000Z\nDTSTART:20301211T110000Z",
)


def test_a_second_override_of_one_occurrence_is_a_problem_and_the_first_counts():
    parsed = parse_ics(calendar(*LAB_MOVED_TWICE), window=WINDOW)

    assert {entry.uid: entry.due for entry in parsed.entries} == {
        "lab#20301210T100000Z": utc(2030, 12, 10, 10),
        "lab#20301211T100000Z": utc(2030, 12, 11, 9),
        "lab#20301212T100000Z": utc(2030, 12, 12, 10),
    }
    [problem] = parsed.problems
    assert (problem.where, problem.field) == ("event 3 (UID lab)", "RECURRENCE-ID")
    assert problem.uid == "", "the first override's deadline is not held back"


def test_overrides_of_one_occurrence_in_two_spellings_are_one_occurrence():
    data = calendar(
        *LAB_MOVED_TWICE[:2],
        "UID:lab\nSUMMARY:Lab\nRECURRENCE-ID;TZID=Europe/Paris:20301211T110000\n"
        "DTSTART:20301211T110000Z",
    )

    parsed = parse_ics(data, window=WINDOW)

    assert [problem.field for problem in parsed.problems] == ["RECURRENCE-ID"]


@pytest.mark.parametrize(
    "recurrence_id",
    [
        "RECURRENCE-ID:PT1H",
        "RECURRENCE-ID;VALUE=PERIOD:20301211T100000Z/PT1H",
        "RECURRENCE-ID;TZID=Asia/Tokyo:00010101T000000",
    ],
    ids=["duration", "period", "year-1"],
)
def test_an_override_naming_no_occurrence_is_a_problem_on_recurrence_id(recurrence_id):
    data = calendar(
        LAB_MOVED_TWICE[0], f"UID:lab\nSUMMARY:Lab\n{recurrence_id}\nDTSTART:20301211T090000Z"
    )

    parsed = parse_ics(data, window=WINDOW)

    assert [problem.field for problem in parsed.problems] == ["RECURRENCE-ID"]
    assert len(parsed.entries) == 3


def test_an_unknown_calendar_zone_falls_back_to_utc_with_a_warning():
    data = calendar(
        "UID:x\nSUMMARY:X\nDTSTART;VALUE=DATE:20301212", head="X-WR-TIMEZONE:Mars/Olympus\r\n"
    )

    parsed = parse_ics(data, window=WINDOW)

    assert parsed.entries[0].due == utc(2030, 12, 13)
    assert parsed.problems[0].field == "X-WR-TIMEZONE"


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "not an iCalendar file"),
        (b"\x89PNG\r\n\x1a\n", "not an iCalendar file"),
        (b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\n", "cut off"),
        (b"BEGIN:VCALENDAR\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n", "cannot be read"),
        # Latin-1: icalendar read the byte as U+FFFD, so "Caf\xe9" became "Caf?".
        (calendar("UID:x\nSUMMARY:Caf\xe9\nDTSTART:20301212T100000Z", latin1=True), "not UTF-8"),
    ],
)
def test_a_file_that_is_not_a_calendar_fails_as_a_whole(data, words):
    with pytest.raises(FeedError, match=words):
        parse_ics(data, window=WINDOW)


def test_a_file_that_is_not_utf8_names_the_line_of_the_first_bad_byte():
    data = calendar("UID:x\nSUMMARY:Caf\xe9\nDTSTART:20301212T100000Z", latin1=True)

    with pytest.raises(FeedError, match="byte 0xE9 on line 6"):
        parse_ics(data, window=WINDOW)


def test_a_summary_longer_than_a_title_is_kept_cut_and_named():
    data = calendar(f"UID:x\nSUMMARY:{'S' * 301}\nDTSTART:20301212T100000Z")

    parsed = parse_ics(data, window=WINDOW)

    # A feed still gets the deadline (its traffic counts); an upload is refused.
    assert [len(entry.title) for entry in parsed.entries] == [300]
    [problem] = parsed.problems
    assert (problem.field, problem.uid) == ("SUMMARY", "x")
    assert "301 characters" in problem.message


def test_a_course_longer_than_a_course_is_kept_cut_and_named():
    data = calendar(f"UID:x\nSUMMARY:Essay\nCATEGORIES:{'C' * 201}\nDTSTART:20301212T100000Z")

    parsed = parse_ics(data, window=WINDOW)

    assert [len(entry.course) for entry in parsed.entries] == [200]
    [problem] = parsed.problems
    assert (problem.field, problem.uid) == ("CATEGORIES", "x")


def test_a_time_in_a_zone_the_file_does_not_define_is_skipped_and_named():
    # icalendar left it floating: it was read silently in the feed's zone.
    data = calendar("UID:x\nSUMMARY:X\nDTSTART;TZID=Lecture Hall Time:20301212T100000")

    parsed = parse_ics(data, window=WINDOW)

    assert parsed.entries == []
    [problem] = parsed.problems
    assert problem.field == "DTSTART"
    assert "Lecture Hall Time" in problem.message


def campus_time(offset: str) -> str:
    return (
        "BEGIN:VTIMEZONE\r\nTZID:Campus Time\r\nBEGIN:STANDARD\r\nDTSTART:19700101T000000\r\n"
        f"TZOFFSETFROM:{offset}\r\nTZOFFSETTO:{offset}\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
    )


def test_a_zone_a_file_defines_is_read_as_that_file_defines_it():
    # icalendar keeps the first definition of a zone name for the whole process:
    # a second file's own "Campus Time" was read with the first file's offset.
    event = "UID:x\nSUMMARY:X\nDTSTART;TZID=Campus Time:20301212T100000"
    parse_ics(calendar(event, head=campus_time("+0100")), window=WINDOW)

    assert dues(calendar(event, head=campus_time("+0500"))) == {"x": utc(2030, 12, 12, 5)}


def test_a_zone_another_file_defined_is_not_used_for_a_file_that_does_not():
    event = "UID:x\nSUMMARY:X\nDTSTART;TZID=Campus Time:20301212T100000"
    parse_ics(calendar(event, head=campus_time("+0100")), window=WINDOW)

    parsed = parse_ics(calendar(event), window=WINDOW)

    assert parsed.entries == []
    assert [problem.field for problem in parsed.problems] == ["DTSTART"]


def test_an_all_day_event_ending_before_it_starts_is_skipped_and_named():
    data = calendar("UID:x\nSUMMARY:X\nDTSTART;VALUE=DATE:20301212\nDTEND;VALUE=DATE:20301210")

    parsed = parse_ics(data, window=WINDOW)

    assert parsed.entries == []
    [problem] = parsed.problems
    assert (problem.field, problem.message) == ("DTEND", "DTEND is before DTSTART.")


def test_json_items_are_read_and_bad_ones_named():
    items = [
        {"uid": "a", "title": "A", "due": "2030-12-12T23:59:00Z", "systems": "grading-api; x"},
        {"uid": "b", "title": "B", "due": "2030-12-12T23:59:00"},
        {"uid": "c", "title": "C", "due": "2030-12-12T23:59:00Z", "cohort_size": True},
        {"uid": "d", "title": "D", "due": "2030-13-45T23:59:00Z"},
        {"title": "E", "due": "2030-12-12T23:59:00Z"},
        {"uid": "a", "title": "A again", "due": "2030-12-12T23:59:00Z"},
        ["not", "an", "object"],
        {"uid": "f", "title": "", "due": "2030-12-12T23:59:00Z"},
        {"uid": "g", "title": "G", "due": "2030-12-12T23:59:00Z", "systems": [1, 2]},
    ]

    parsed = parse_json(json.dumps(items).encode(), max_events=100)

    [entry] = parsed.entries
    assert (entry.uid, entry.systems, entry.due) == (
        "a",
        ("grading-api", "x"),
        utc(2030, 12, 12, 23, 59),
    )
    assert [(p.where, p.field) for p in parsed.problems] == [
        ("item 2 (uid b)", "due"),
        ("item 3 (uid c)", "cohort_size"),
        ("item 4 (uid d)", "due"),
        ("item 5", "uid"),
        ("item 6 (uid a)", "uid"),
        ("item 7", "item"),
        ("item 8 (uid f)", "title"),
        ("item 9 (uid g)", "systems"),
    ]


def test_too_many_json_items_fail_as_a_whole():
    items = [{"uid": str(n), "title": "T", "due": "2030-12-12T00:00:00Z"} for n in range(101)]

    with pytest.raises(FeedError, match="101 deadlines; the limit is 100"):
        parse_json(json.dumps(items).encode(), max_events=100)

"""One-off events are written without icalendar's objects, byte for byte as it writes them."""

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from icalendar import Calendar

from scheduling.calendar_feeds import render
from scheduling.calendar_feeds.sources import FeedEvent

# Text as people type it: accents, emoji, line breaks, the characters iCalendar escapes.
TEXT = st.lists(
    st.one_of(
        st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")),
        st.sampled_from([*list(',;\\\n\r^:"N'), "\\N", "\r\n", "é", "€", "😀"]),
    ),
    max_size=120,
).map("".join)
INSTANT = st.datetimes(
    min_value=datetime(1, 1, 2),
    max_value=datetime(9999, 12, 30),
    timezones=st.sampled_from([UTC]),
)
URL = st.builds(
    "https://clearway.example/{}/{}/?q={}".format,
    st.sampled_from(["jobs", "deadlines", "blackouts"]),
    st.integers(min_value=1),
    st.text(alphabet="abc,;=&%20", max_size=20),
)


def one_off(**given) -> FeedEvent:
    moment = datetime(2030, 12, 1, 9, tzinfo=UTC)
    fields = {
        "uid": "job-7@clearway",
        "sequence": 0,
        "modified": moment,
        "start": moment,
        "end": moment + timedelta(hours=2),
        "zone": "UTC",
        "summary": "Reindex grades",
        "description": "",
        "url": "https://clearway.example/jobs/7/",
        "category": "maintenance",
    }
    return FeedEvent(**{**fields, **given})


def with_icalendar(event: FeedEvent) -> bytes:
    return b"".join(component.to_ical() for component in render.components(event))


@settings(max_examples=300, deadline=None)
@given(
    summary=TEXT,
    description=TEXT,
    uid=TEXT,
    category=TEXT,
    status=st.sampled_from(["CONFIRMED", "TENTATIVE", "CANCELLED"]),
    sequence=st.integers(min_value=0, max_value=10**9),
    url=URL,
)
def test_any_text_is_written_as_icalendar_writes_it(
    summary, description, uid, category, status, sequence, url
):
    event = one_off(
        summary=summary,
        description=description,
        uid=uid,
        category=category,
        status=status,
        sequence=sequence,
        url=url,
    )

    assert render.render_events([event]) == with_icalendar(event)


@settings(max_examples=200, deadline=None)
@given(modified=INSTANT, start=INSTANT, end=st.none() | INSTANT)
def test_any_instant_is_written_as_icalendar_writes_it(modified, start, end):
    event = one_off(modified=modified, start=start, end=end)

    assert render.render_events([event]) == with_icalendar(event)


def test_an_instant_with_microseconds_is_written_to_the_second():
    moment = datetime(2030, 12, 1, 9, 30, 15, 999_999, tzinfo=UTC)

    written = render.render_events([one_off(start=moment)]).decode()

    assert "DTSTART:20301201T093015Z\r\n" in written


def test_an_event_without_an_end_has_no_dtend():
    written = render.render_events([one_off(end=None)]).decode()

    assert "DTEND" not in written


def test_a_zoned_or_recurring_event_is_still_written_by_icalendar():
    zoned = one_off(zone="Europe/Amsterdam")
    recurring = one_off(rrule="FREQ=WEEKLY;COUNT=3")

    assert b"TZID=Europe/Amsterdam" in render.render_events([zoned])
    assert render.render_events([zoned, recurring]) == with_icalendar(zoned) + with_icalendar(
        recurring
    )


def test_a_backslash_before_n_in_a_title_stays_as_typed():
    # A Windows share in a title: icalendar alone turns its `\N` into a line break.
    event = one_off(summary=r"Copy \\NAS01\backups", description="Runbook:\nstep 1")

    written = render.render_events([event]).decode()

    assert "SUMMARY:Copy \\\\\\\\NAS01\\\\backups\r\n" in written
    assert "DESCRIPTION:Runbook:\\nstep 1\r\n" in written


def test_a_recurring_events_title_keeps_a_backslash_before_n_too():
    event = one_off(summary=r"Copy \\NAS01\backups", rrule="FREQ=WEEKLY;COUNT=3")

    parsed = Calendar.from_ical(
        b"BEGIN:VCALENDAR\r\n" + render.render_events([event]) + b"END:VCALENDAR\r\n"
    )

    assert [str(e["SUMMARY"]) for e in parsed.walk("VEVENT")] == [r"Copy \\NAS01\backups"]

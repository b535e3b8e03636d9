"""Events are written byte for byte as icalendar writes them, short lines left unfolded."""

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st
from icalendar import Event
from icalendar.parser import Contentline

from scheduling.calendar_feeds import render
from scheduling.calendar_feeds.render import to_ical

# Text as people type it: accents, emoji, the characters iCalendar escapes.
TEXT = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")),
        st.sampled_from([*list(',;\\\n^:"'), "é", "€", "😀"]),
    ),
    max_size=200,
)


def event(*, summary: str, description: str, url: str = "https://clearway.example/jobs/7") -> Event:
    component = Event()
    component.add("uid", "job-7@clearway")
    component.add("dtstamp", datetime(2030, 12, 1, 9, tzinfo=UTC))
    component.add("summary", summary)
    component.add("description", description)
    component.add("url", url)
    component.add("categories", ["maintenance"])
    return component


@settings(max_examples=300, deadline=None)
@given(summary=TEXT, description=TEXT)
def test_any_text_is_written_as_icalendar_writes_it(summary, description):
    component = event(summary=summary, description=description)

    assert to_ical(component) == component.to_ical()


@given(length=st.integers(min_value=60, max_value=90), fill=st.sampled_from(["a", "é", "\\"]))
def test_lines_around_the_fold_are_written_as_icalendar_writes_them(length, fill):
    component = event(summary=fill * length, description="x" * (length - 12))

    assert to_ical(component) == component.to_ical()


def test_a_short_line_stays_on_one_line_and_a_long_one_is_folded():
    written = to_ical(event(summary="Reindex grades", description="d" * 100)).decode()

    assert "SUMMARY:Reindex grades\r\n" in written
    assert "DESCRIPTION:" + "d" * 62 + "\r\n " in written


@settings(max_examples=500, deadline=None)
@given(line=st.text(alphabet=st.sampled_from(list("ab \\^,;:\t")), max_size=400))
def test_an_ascii_line_is_folded_as_icalendar_folds_it(line):
    assert render._line(line) == Contentline(line).to_ical()

"""Syncing a feed from the local LMS: the deadlines in the database after each sync."""

from datetime import UTC, datetime

import pytest

from deadlines.choices import DeadlineSource, FeedFormat
from deadlines.feeds.sync import feed_sync
from deadlines.models import Cohort, DeadlineFeed
from tests.deadlines.conftest import fixture_bytes
from tests.deadlines.helpers import feed, live, snapshot
from tests.deadlines.test_feed_parse import LAB_MOVED_TWICE
from tests.deadlines.test_feed_parse import calendar as calendar_text

pytestmark = pytest.mark.django_db


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def systems_of(deadline) -> set[str]:
    return set(deadline.systems.values_list("slug", flat=True))


def test_a_moodle_export_becomes_deadlines_due_at_dtend(clock, lms, curriculum):
    moodle = feed(lms.serve_fixture("/moodle.ics", "moodle.ics"), team=curriculum["team"])

    result = feed_sync(feed_id=moodle.pk)

    assert result.ok, result.error
    assert result.changes["created"] == 3
    deadlines = live(moodle)
    assert {uid: d.due for uid, d in deadlines.items()} == {
        "4253@moodle.example.edu": utc(2030, 12, 12, 23, 59),
        "4254@moodle.example.edu": utc(2030, 12, 15, 17),
        "4260@moodle.example.edu": utc(2030, 12, 3, 11),  # DTEND, not DTSTART
    }
    project = deadlines["4253@moodle.example.edu"]
    assert (project.title, project.course, project.cohort_size) == (
        "Project 3 is due",
        "CS201",
        150,
    )
    assert project.source == DeadlineSource.FEED
    assert project.team == curriculum["team"]
    assert systems_of(project) == {"submissions-web", "grading-api"}  # the settings' default
    moodle.refresh_from_db()
    assert moodle.last_success_at == clock
    assert moodle.last_attempt_at == clock
    assert moodle.last_error == ""
    assert moodle.deadline_count == 3


def test_a_canvas_export_reads_all_day_tzid_and_clearway_properties(clock, lms, curriculum):
    canvas = feed(
        lms.serve_fixture("/canvas.ics", "canvas.ics"),
        team=curriculum["team"],
        systems=["submissions-web"],
    )

    assert feed_sync(feed_id=canvas.pk).ok

    deadlines = live(canvas)
    assert {uid: d.due for uid, d in deadlines.items()} == {
        "event-assignment-12345": utc(2030, 12, 16, 6, 59),
        # All day on the 20th, no X-WR-TIMEZONE: due when the day ends in UTC.
        "event-calendar-event-678": utc(2030, 12, 21),
        # 19:00 in Denver (MST, UTC-7) per its TZID and VTIMEZONE.
        "event-calendar-event-679": utc(2030, 12, 19, 2),
        "event-assignment-12399": utc(2030, 12, 19, 6, 59),
    }
    homework = deadlines["event-assignment-12345"]
    assert (homework.course, homework.cohort_id, homework.cohort_size) == ("CS 101", None, 150)
    assert systems_of(homework) == {"submissions-web"}  # the feed's default
    capstone = deadlines["event-assignment-12399"]
    assert capstone.cohort.name == "CS 2026"
    assert capstone.cohort.team == curriculum["team"]
    assert capstone.cohort_size == 2000
    assert systems_of(capstone) == {"grading-api", "submissions-web"}


def test_recurring_events_are_expanded_in_their_zone(clock, lms, curriculum):
    google = feed(lms.serve_fixture("/cs201.ics", "recurring.ics"), team=curriculum["team"])

    assert feed_sync(feed_id=google.pk).ok

    dues = {uid: d.due for uid, d in live(google).items()}
    assert dues == {
        # Weekly, COUNT=4, 09:30 London; the 17th excluded, the 10th moved to the 11th.
        "weekly-quiz@lms.example.edu#20301203T090000Z": utc(2030, 12, 3, 9, 30),
        "weekly-quiz@lms.example.edu#20301210T090000Z": utc(2030, 12, 11, 12, 30),
        "weekly-quiz@lms.example.edu#20301224T090000Z": utc(2030, 12, 24, 9, 30),
        # 17:00 New York on both sides of the DST change on 9 March 2031.
        "reflection@lms.example.edu#20310304T220000Z": utc(2031, 3, 4, 22),
        "reflection@lms.example.edu#20310311T210000Z": utc(2031, 3, 11, 21),
        # All day on the 11th in the feed's X-WR-TIMEZONE (America/New_York).
        "hand-in-day@lms.example.edu": utc(2030, 12, 12, 5),
    }


def test_a_json_feed_becomes_deadlines(clock, lms, curriculum):
    json_feed = feed(
        lms.serve_fixture("/deadlines.json", "feed.json"),
        team=curriculum["team"],
        feed_format=FeedFormat.JSON,
    )

    assert feed_sync(feed_id=json_feed.pk).ok

    deadlines = live(json_feed)
    project, quiz = deadlines["cs201-p3"], deadlines["cs201-q2"]
    assert (project.title, project.course, project.cohort.name) == ("Project 3", "CS201", "CS 2026")
    assert project.cohort_size == 2000
    assert quiz.due == utc(2030, 12, 15, 17)
    assert quiz.cohort_size == 150


def test_changed_events_update_and_gone_events_are_withdrawn(clock, lms, curriculum):
    text = fixture_bytes("moodle.ics").decode()
    url = lms.serve("/moodle.ics", text)
    moodle = feed(url, team=curriculum["team"])
    assert feed_sync(feed_id=moodle.pk).ok
    before = live(moodle)

    lab_exam = text.index("BEGIN:VEVENT\r\nUID:4260")
    changed = text[:lab_exam] + text[text.index("END:VEVENT", lab_exam) + len("END:VEVENT\r\n") :]
    lms.serve("/moodle.ics", changed.replace("20301215T170000Z", "20301216T170000Z"))
    result = feed_sync(feed_id=moodle.pk)

    assert result.changes == {
        "created": 0,
        "updated": 1,
        "restored": 0,
        "withdrawn": 1,
        "unchanged": 1,
    }
    after = live(moodle)
    assert set(after) == {"4253@moodle.example.edu", "4254@moodle.example.edu"}
    quiz = after["4254@moodle.example.edu"]
    assert quiz.pk == before["4254@moodle.example.edu"].pk
    assert (quiz.due, quiz.version) == (utc(2030, 12, 16, 17), 2)
    lab = before["4260@moodle.example.edu"]
    lab.refresh_from_db()
    assert lab.withdrawn_at == clock
    moodle.refresh_from_db()
    assert moodle.deadline_count == 2


def test_an_event_that_comes_back_restores_its_deadline(clock, lms, curriculum):
    text = fixture_bytes("moodle.ics").decode()
    moodle = feed(lms.serve("/moodle.ics", text), team=curriculum["team"])
    assert feed_sync(feed_id=moodle.pk).ok
    start = text.index("BEGIN:VEVENT\r\nUID:4260")
    end = text.index("END:VEVENT", start) + len("END:VEVENT\r\n")
    lms.serve("/moodle.ics", text[:start] + text[end:])
    assert feed_sync(feed_id=moodle.pk).changes["withdrawn"] == 1

    lms.serve("/moodle.ics", text)
    result = feed_sync(feed_id=moodle.pk)

    assert result.changes["restored"] == 1
    assert result.changes["created"] == 0
    assert "4260@moodle.example.edu" in live(moodle)


def test_syncing_the_same_feed_twice_changes_nothing(clock, lms, curriculum):
    canvas = feed(lms.serve_fixture("/canvas.ics", "canvas.ics"), team=curriculum["team"])
    assert feed_sync(feed_id=canvas.pk).ok
    before = snapshot(canvas)

    again = feed_sync(feed_id=canvas.pk)

    assert again.changes == {
        "created": 0,
        "updated": 0,
        "restored": 0,
        "withdrawn": 0,
        "unchanged": 4,
    }
    assert snapshot(canvas) == before
    assert Cohort.objects.filter(name="CS 2026").count() == 1


def test_a_304_answer_changes_nothing(clock, lms, curriculum):
    url = lms.serve_fixture(
        "/moodle.ics",
        "moodle.ics",
        headers={"ETag": '"v1"', "Last-Modified": "Sat, 30 Nov 2030 08:00:00 GMT"},
    )
    moodle = feed(url, team=curriculum["team"])
    assert feed_sync(feed_id=moodle.pk).ok
    before = snapshot(moodle)

    result = feed_sync(feed_id=moodle.pk)

    assert result.not_modified
    asked = lms.requests_to("/moodle.ics")[-1]
    assert asked["If-None-Match"] == '"v1"'
    assert asked["If-Modified-Since"] == "Sat, 30 Nov 2030 08:00:00 GMT"
    assert snapshot(moodle) == before
    moodle.refresh_from_db()
    assert (moodle.etag, moodle.deadline_count, moodle.last_error) == ('"v1"', 3, "")


def test_a_broken_event_is_skipped_and_reported_and_its_deadline_kept(clock, lms, curriculum):
    text = fixture_bytes("moodle.ics").decode()
    moodle = feed(lms.serve("/moodle.ics", text), team=curriculum["team"])
    assert feed_sync(feed_id=moodle.pk).ok
    quiz_before = live(moodle)["4254@moodle.example.edu"]

    lms.serve("/moodle.ics", text.replace("DTSTART:20301215T170000Z", "DTSTART:2030-12-15 5pm"))
    result = feed_sync(feed_id=moodle.pk)

    assert result.ok
    assert len(result.warnings) == 1
    assert result.warnings[0].startswith("event 2 (UID 4254@moodle.example.edu): DTSTART:")
    quiz = live(moodle)["4254@moodle.example.edu"]
    assert (quiz.pk, quiz.due, quiz.version) == (quiz_before.pk, quiz_before.due, 1)
    moodle.refresh_from_db()
    assert moodle.last_warnings == result.warnings
    assert moodle.last_error == ""


def test_a_second_override_of_one_occurrence_is_skipped_with_a_warning(clock, lms, curriculum):
    lab = feed(
        lms.serve("/lab.ics", calendar_text(*LAB_MOVED_TWICE).decode()), team=curriculum["team"]
    )

    result = feed_sync(feed_id=lab.pk)

    assert result.ok, result.error
    [warning] = result.warnings
    assert warning.startswith("event 3 (UID lab): RECURRENCE-ID:")
    assert {uid: d.due for uid, d in live(lab).items()} == {
        "lab#20301210T100000Z": utc(2030, 12, 10, 10),
        "lab#20301211T100000Z": utc(2030, 12, 11, 9),
        "lab#20301212T100000Z": utc(2030, 12, 12, 10),
    }


def test_an_event_giving_its_cohort_size_twice_is_skipped_with_a_warning(clock, lms, curriculum):
    twice = calendar_text(
        "UID:ok\nSUMMARY:Fine\nDTSTART:20301212T100000Z",
        "UID:x\nSUMMARY:Essay\nDTSTART:20301212T100000Z\n"
        "X-CLEARWAY-COHORT-SIZE:40\nX-CLEARWAY-COHORT-SIZE:2000",
    )
    essays = feed(lms.serve("/essays.ics", twice.decode()), team=curriculum["team"])

    result = feed_sync(feed_id=essays.pk)

    assert result.ok, result.error
    [warning] = result.warnings
    assert warning.startswith("event 2 (UID x): X-CLEARWAY-COHORT-SIZE:")
    assert "more than once" in warning
    assert set(live(essays)) == {"ok"}


def test_an_event_naming_an_unknown_system_is_skipped_and_reported(clock, lms, curriculum):
    text = fixture_bytes("canvas.ics").decode()
    url = lms.serve("/canvas.ics", text.replace("grading-api submissions-web", "grading-api nope"))
    canvas = feed(url, team=curriculum["team"])

    result = feed_sync(feed_id=canvas.pk)

    assert result.ok
    assert result.warnings == [
        "event 4 (UID event-assignment-12399): systems: Unknown system(s): nope."
    ]
    assert set(live(canvas)) == {
        "event-assignment-12345",
        "event-calendar-event-678",
        "event-calendar-event-679",
    }


def test_a_cancelled_event_withdraws_its_deadline(clock, lms, curriculum):
    text = fixture_bytes("moodle.ics").decode()
    moodle = feed(lms.serve("/moodle.ics", text), team=curriculum["team"])
    assert feed_sync(feed_id=moodle.pk).ok

    cancelled = text.replace("SUMMARY:Quiz 2 closes", "SUMMARY:Quiz 2 closes\r\nSTATUS:CANCELLED")
    lms.serve("/moodle.ics", cancelled)

    assert feed_sync(feed_id=moodle.pk).changes["withdrawn"] == 1
    assert "4254@moodle.example.edu" not in live(moodle)


def test_past_deadlines_are_history(lms, curriculum):
    """An event due before the open traffic windows is not imported, nor withdrawn when gone."""
    import time_machine

    text = fixture_bytes("moodle.ics").decode()
    moodle = feed(lms.serve("/moodle.ics", text), team=curriculum["team"])
    with time_machine.travel(utc(2030, 12, 1), tick=False):
        assert feed_sync(feed_id=moodle.pk).changes["created"] == 3

    start = text.index("BEGIN:VEVENT\r\nUID:4260")  # the lab exam, due on 3 December
    end = text.index("END:VEVENT", start) + len("END:VEVENT\r\n")
    lms.serve("/moodle.ics", text[:start] + text[end:])
    with time_machine.travel(utc(2030, 12, 10), tick=False):
        result = feed_sync(feed_id=moodle.pk)

    assert result.changes["withdrawn"] == 0
    assert "4260@moodle.example.edu" in live(moodle)


def test_a_feed_changed_while_it_synced_fails_cleanly(clock, lms, curriculum, monkeypatch):
    moodle = feed(lms.serve_fixture("/moodle.ics", "moodle.ics"), team=curriculum["team"])
    from deadlines.feeds import sync

    real_parse = sync.feed_parse

    def parse_then_edit(**kwargs):
        DeadlineFeed.objects.filter(pk=moodle.pk).update(url=lms.url("/elsewhere.ics"))
        return real_parse(**kwargs)

    monkeypatch.setattr(sync, "feed_parse", parse_then_edit)
    result = feed_sync(feed_id=moodle.pk)

    assert not result.ok
    assert "changed during the sync" in result.error
    assert live(moodle) == {}


@pytest.mark.parametrize(
    ("line", "field"),
    [("X-CLEARWAY-COHORT-SIZE:²", "X-CLEARWAY-COHORT-SIZE"), ("RRULE:FREQ=MONTHLY;BYDAY=99MO", "")],
)
def test_an_event_with_a_number_no_calendar_reads_is_skipped_and_the_rest_synced(
    line, field, clock, lms, curriculum
):
    text = fixture_bytes("moodle.ics").decode()
    broken = text.replace("DTEND:20301215T170000Z\r\n", f"DTEND:20301215T170000Z\r\n{line}\r\n")
    assert broken != text
    moodle = feed(lms.serve("/moodle.ics", broken), team=curriculum["team"])

    result = feed_sync(feed_id=moodle.pk)

    assert result.ok, result.error
    [warning] = result.warnings
    assert warning.startswith("event 2 (UID 4254@moodle.example.edu):")
    assert field in warning
    assert "4253@moodle.example.edu" in live(moodle)
    assert "4254@moodle.example.edu" not in live(moodle)

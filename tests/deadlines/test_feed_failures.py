"""A feed that is down, slow, huge or malformed: the last good deadlines stay (flow 3)."""

import gzip
import socket
import time
from datetime import timedelta

import pytest
import time_machine

from deadlines.choices import FeedFormat
from deadlines.feeds.sync import feed_sync
from deadlines.models import DeadlineFeed
from scheduling.models import Delivery
from tests.bounded import rule_steps
from tests.deadlines.conftest import fixture_bytes
from tests.deadlines.helpers import feed, snapshot

pytestmark = pytest.mark.django_db

GOOD = fixture_bytes("moodle.ics")


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def many_events(count: int) -> bytes:
    events = "".join(
        f"BEGIN:VEVENT\r\nUID:e{n}\r\nSUMMARY:E{n}\r\nDTSTART:20301212T120000Z\r\nEND:VEVENT\r\n"
        for n in range(count)
    )
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n{events}END:VCALENDAR\r\n".encode()


def go_down(lms, moodle):
    DeadlineFeed.objects.filter(pk=moodle.pk).update(url=f"http://127.0.0.1:{closed_port()}/x")


# Each case: how the feed breaks, and the words its error must contain.
BROKEN = {
    "down": (go_down, "Could not connect to 127.0.0.1"),
    "timeout": (
        lambda lms, _: lms.serve("/moodle.ics", GOOD, behaviour="silent"),
        "did not answer within 1 s",
    ),
    "trickle": (
        lambda lms, _: lms.serve("/moodle.ics", GOOD, behaviour="trickle"),
        "took longer than 1 s to download",
    ),
    "500": (lambda lms, _: lms.serve("/moodle.ics", "oops", status=500), "HTTP 500"),
    "404": (lambda lms, _: lms.routes.pop("/moodle.ics"), "HTTP 404 Not Found"),
    "html": (
        lambda lms, _: lms.serve(
            "/moodle.ics", "<!DOCTYPE html><html>Log in</html>", content_type="text/html"
        ),
        "not an iCalendar file: it begins with '<!DOCTYPE html>",
    ),
    "truncated": (
        lambda lms, _: lms.serve("/moodle.ics", GOOD, behaviour="truncate"),
        "cut off",
    ),
    "no END:VCALENDAR": (
        lambda lms, _: lms.serve("/moodle.ics", GOOD[: len(GOOD) // 2]),
        "does not end with END:VCALENDAR",
    ),
    "too large": (
        lambda lms, _: lms.serve("/moodle.ics", GOOD + b" " * 200_000),
        "the limit is 100,000",
    ),
    "too many events": (
        lambda lms, _: lms.serve("/moodle.ics", many_events(201)),
        "201 events; the limit is 200",
    ),
    "gzip bomb": (
        lambda lms, _: lms.serve(
            "/moodle.ics",
            gzip.compress(b"BEGIN:VCALENDAR\r\n" + b"\0" * 30_000_000, compresslevel=9),
            headers={"Content-Encoding": "gzip"},
        ),
        "larger than the limit of 100,000 bytes",
    ),
    "empty 200 with gzip junk": (
        lambda lms, _: lms.serve(
            "/moodle.ics", b"not gzip at all", headers={"Content-Encoding": "gzip"}
        ),
        "compressed body is broken",
    ),
}


@pytest.fixture
def synced(clock, lms, curriculum):
    moodle = feed(lms.serve("/moodle.ics", GOOD), team=curriculum["team"])
    assert feed_sync(feed_id=moodle.pk).ok
    return moodle


@pytest.mark.parametrize("case", BROKEN)
def test_a_broken_feed_keeps_the_last_good_deadlines(case, synced, lms, clock):
    breaks, words = BROKEN[case]
    before = snapshot(synced)
    breaks(lms, synced)

    started = time.monotonic()
    result = feed_sync(feed_id=synced.pk)

    assert time.monotonic() - started < 5, "a broken feed must fail fast"
    assert not result.ok
    assert words in result.error
    assert snapshot(synced) == before
    synced.refresh_from_db()
    assert synced.last_error == result.error
    assert synced.last_success_at == clock
    assert synced.deadline_count == 3
    assert synced.failure_count == 1


def test_a_json_feed_that_is_not_json_keeps_the_last_good_deadlines(clock, lms, curriculum):
    json_feed = feed(
        lms.serve_fixture("/feed.json", "feed.json"),
        team=curriculum["team"],
        feed_format=FeedFormat.JSON,
    )
    assert feed_sync(feed_id=json_feed.pk).ok
    before = snapshot(json_feed)

    for body, words in [
        (b"<html>maintenance</html>", "This is not JSON"),
        (b'[{"uid": "a", "title": "A", "due": "2030-12-12T', "This is not JSON"),
        (b'{"uid": "a"}', "an array of deadline objects"),
        (b"[" * 100_000, "nested too deeply"),
    ]:
        lms.serve("/feed.json", body, content_type="application/json")
        result = feed_sync(feed_id=json_feed.pk)
        assert words in result.error
        assert snapshot(json_feed) == before


def test_the_team_is_told_once_per_failure_streak(synced, lms, clock):
    lms.serve("/moodle.ics", "oops", status=503)

    feed_sync(feed_id=synced.pk)
    feed_sync(feed_id=synced.pk)
    feed_sync(feed_id=synced.pk)

    told = Delivery.objects.filter(event="deadline_feed_failing")
    assert [d.channel for d in told] == ["email:curriculum@example.org"]
    assert "HTTP 503" in told[0].text
    assert "last good deadlines stay" in told[0].text
    synced.refresh_from_db()
    assert (synced.failure_count, synced.failure_notified) == (3, True)

    lms.serve("/moodle.ics", GOOD)
    assert feed_sync(feed_id=synced.pk).ok
    synced.refresh_from_db()
    assert (synced.last_error, synced.failure_count, synced.failing_since) == ("", 0, None)
    assert not synced.failure_notified

    lms.serve("/moodle.ics", "oops", status=503)
    with time_machine.travel(clock + timedelta(hours=1), tick=False):
        feed_sync(feed_id=synced.pk)
    assert Delivery.objects.filter(event="deadline_feed_failing").count() == 2


def test_the_next_good_sync_recovers(synced, lms):
    lms.serve("/moodle.ics", "oops", status=500)
    assert not feed_sync(feed_id=synced.pk).ok

    changed = GOOD.replace(b"Quiz 2 closes", b"Quiz 2 closes (extended)")
    lms.serve("/moodle.ics", changed)
    result = feed_sync(feed_id=synced.pk)

    assert result.ok
    assert result.changes["updated"] == 1
    synced.refresh_from_db()
    assert synced.last_error == ""
    assert synced.deadline_count == 3


def test_a_rule_firing_every_second_does_not_hang(clock, lms, curriculum):
    rules = [
        # From today with no end: more occurrences than the cap within the horizon.
        "DTSTART:20301201T000000Z\r\nRRULE:FREQ=SECONDLY",
        # From 2001: dateutil would walk a billion seconds before reaching today.
        "DTSTART:20010101T000000Z\r\nRRULE:FREQ=SECONDLY",
    ]
    events = "".join(
        f"BEGIN:VEVENT\r\nUID:every-second-{n}\r\nSUMMARY:Spam\r\n{rule}\r\nEND:VEVENT\r\n"
        for n, rule in enumerate(rules)
    )
    text = GOOD.decode().replace("END:VCALENDAR", events + "END:VCALENDAR")
    moodle = feed(lms.serve("/moodle.ics", text), team=curriculum["team"])

    with rule_steps() as steps:
        result = feed_sync(feed_id=moodle.pk)

    # Each endless rule is cut at its cap (about 200,000 steps for the three);
    # walked from 2001 it would be a billion.
    assert steps.count < 1_000_000
    assert result.ok
    assert result.changes["created"] == 3
    assert [w.split(": ")[1] for w in result.warnings] == ["RRULE", "RRULE"]
    # The per-event cap of a feed (CLEARWAY_FEED_MAX_OCCURRENCES) cuts it first.
    assert "more than 200 occurrences" in result.warnings[0]
    assert "repeats too often" in result.warnings[1]

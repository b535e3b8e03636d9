"""When feeds sync: one schedule claims due feeds; the command and the task sync on demand."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django_q.models import Schedule

from deadlines import tasks
from deadlines.feeds.sync import feed_claim_due, feed_sync_next_due, feeds_sync_due
from deadlines.models import DeadlineFeed
from tests.deadlines.helpers import feed

pytestmark = pytest.mark.django_db


def test_one_schedule_runs_the_claiming_loop_every_minute():
    schedule = Schedule.objects.get(name="clearway: sync deadline feeds")

    assert (schedule.func, schedule.schedule_type, schedule.minutes, schedule.repeats) == (
        "deadlines.tasks.sync_due_feeds",
        Schedule.MINUTES,
        1,
        -1,
    )


def test_only_enabled_feeds_that_are_due_are_synced(clock, lms, curriculum):
    url = lms.serve_fixture("/moodle.ics", "moodle.ics")
    due = feed(url, team=curriculum["team"], interval=timedelta(minutes=30))
    later = feed(url, team=curriculum["team"])
    disabled = feed(url, team=curriculum["team"], enabled=False)
    DeadlineFeed.objects.filter(pk=later.pk).update(next_sync_at=clock + timedelta(minutes=5))

    assert feeds_sync_due() == 1

    due.refresh_from_db()
    assert due.last_success_at == clock
    assert due.next_sync_at == clock + timedelta(minutes=30)
    assert due.deadline_count == 3
    for idle in (later, disabled):
        idle.refresh_from_db()
        assert idle.last_attempt_at is None
    assert feed_sync_next_due() is False


def test_a_claimed_feed_is_not_claimed_twice(clock, curriculum):
    target = feed("https://moodle.example.edu/c.ics", team=curriculum["team"])

    assert feed_claim_due(now=clock) == target.pk
    assert feed_claim_due(now=clock) is None
    target.refresh_from_db()
    assert target.next_sync_at == clock + timedelta(hours=1)


def test_a_failing_feed_is_tried_again_after_its_interval(clock, lms, curriculum):
    target = feed(lms.serve("/down.ics", "no", status=502), team=curriculum["team"])

    assert feeds_sync_due() == 1

    target.refresh_from_db()
    assert "HTTP 502" in target.last_error
    assert target.next_sync_at == clock + timedelta(hours=1)


def test_the_command_syncs_one_feed_or_every_enabled_one(clock, lms, curriculum):
    good = feed(lms.serve_fixture("/moodle.ics", "moodle.ics"), team=curriculum["team"])
    out = StringIO()

    call_command("sync_feeds", "--feed", str(good.pk), stdout=out)

    assert out.getvalue() == (
        f"feed {good.pk}: 3 created, 0 updated, 0 restored, 0 withdrawn, 0 unchanged\n"
    )
    bad = feed(lms.serve("/bad.ics", "<html>", content_type="text/html"), team=curriculum["team"])
    err = StringIO()
    with pytest.raises(CommandError, match="1 of 2 feed"):
        call_command("sync_feeds", stdout=StringIO(), stderr=err)
    assert f"feed {bad.pk}: failed: This is not an iCalendar file" in err.getvalue()


def test_the_command_names_a_missing_feed():
    with pytest.raises(CommandError, match="no deadline feed 999"):
        call_command("sync_feeds", "--feed", "999")


def test_the_task_for_a_deleted_feed_does_nothing():
    assert tasks.sync_feed(12345) is None

"""The admin shows each feed with its sync state, and saves through the feed services."""

import pytest

from deadlines.feeds.sync import feed_sync
from deadlines.models import DeadlineFeed
from tests.deadlines.helpers import feed

pytestmark = pytest.mark.django_db


def test_the_admin_shows_the_sync_state(clock, admin_client, lms, curriculum):
    target = feed(lms.serve("/x.ics", "down", status=503), team=curriculum["team"])
    feed_sync(feed_id=target.pk)

    listing = admin_client.get("/admin/deadlines/deadlinefeed/")
    page = admin_client.get(f"/admin/deadlines/deadlinefeed/{target.pk}/change/")

    assert listing.status_code == page.status_code == 200
    assert "The feed answered HTTP 503 Service Unavailable." in page.content.decode()


def test_the_admin_adds_a_feed_through_the_service(clock, admin_client, curriculum):
    answer = admin_client.post(
        "/admin/deadlines/deadlinefeed/add/",
        {
            "url": "https://moodle.example.edu/c.ics",
            "format": "ics",
            "team": curriculum["team"].pk,
            "cohort": "",
            "cohort_size": 90,
            "systems": [],
            "interval": "01:00:00",
            "enabled": "on",
        },
    )

    assert answer.status_code == 302, answer.content.decode()[-2000:]
    added = DeadlineFeed.objects.get()
    assert (added.cohort_size, added.next_sync_at) == (90, clock)


def test_the_admin_action_syncs_now(clock, admin_client, lms, curriculum):
    target = feed(lms.serve_fixture("/moodle.ics", "moodle.ics"), team=curriculum["team"])

    admin_client.post(
        "/admin/deadlines/deadlinefeed/",
        {"action": "sync_now", "_selected_action": [target.pk]},
    )

    target.refresh_from_db()
    assert target.deadline_count == 3

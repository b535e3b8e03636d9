"""The calendar filtered by a team offers `?team=` as that team's feed: the
feed holds what the page shows, other teams' events on the team's systems
included."""

from datetime import timedelta

import pytest
from django.test import Client

from scheduling.calendar_feeds.tokens import feed_token_create
from tests import builders
from tests.builders import at
from tests.feeds.conftest import body_of
from tests.ui.conftest import client_for
from tests.workflow import pending_job

pytestmark = pytest.mark.django_db


def test_the_team_feed_the_team_page_offers_holds_the_events_the_page_shows(
    frozen_now, alice, bob, org
):
    # grading books work on grading-db, and platform a blackout on it: infra-dba owns grading-db.
    start = at(10, 8)
    pending_job(
        requester=bob,
        owner=org["grading"],
        systems=("grading-db",),
        title="Grading on db",
        start=start,
    )
    builders.blackout(
        title="Db blackout",
        systems=("grading-db",),
        owner=org["platform"],
        start=start + timedelta(hours=5),
        end=start + timedelta(hours=7),
    )
    _, secret = feed_token_create(user=alice, name="Phone")

    page = client_for(alice).get("/", {"date": "2030-12-10", "team": "infra-dba"})
    feed = Client().get(f"/calendar/{secret}/all.ics?team=infra-dba")

    shown = page.content.decode()
    published = body_of(feed).decode().replace("\r\n ", "")  # unfolded
    assert "?team=infra-dba</code> for this team" in shown
    for title in ("Grading on db", "Db blackout"):
        assert title in shown
        assert title in published

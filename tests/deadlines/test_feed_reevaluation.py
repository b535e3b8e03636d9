"""The incident through a feed: the LMS publishes a deadline after the job was approved."""

import pytest
import time_machine
from django.core import mail
from rest_framework.test import APIClient

from deadlines.feeds.sync import feed_sync
from tests import builders
from tests.builders import at
from tests.deadlines.helpers import feed

pytestmark = pytest.mark.django_db(transaction=True)

CAPSTONE = """\
BEGIN:VCALENDAR
VERSION:2.0
PRODID:icalendar-ruby
METHOD:PUBLISH
BEGIN:VEVENT
DTSTAMP:20301201T090000Z
UID:event-assignment-777
DTSTART:20301212T235900Z
DTEND:20301212T235900Z
SUMMARY:Capstone project [CS 490]
X-CLEARWAY-COHORT-SIZE:2000
X-CLEARWAY-SYSTEMS:grading-api
END:VEVENT
END:VCALENDAR
"""


def as_user(person) -> APIClient:
    client = APIClient()
    client.force_authenticate(person)
    return client


def test_a_synced_deadline_takes_an_approved_job_out_of_approval(lms, curriculum, grading_stack):
    alice = as_user(builders.user("alice", team=grading_stack["infra"]))
    bob = as_user(builders.user("bob", team=grading_stack["grading"]))
    with time_machine.travel(at(1, 9), tick=False):
        job_id = alice.post(
            "/api/v1/jobs",
            {
                "title": "Quarterly grading-db optimisation",
                "team": "infra",
                "systems": ["grading-db"],
                "start": "2030-12-11T08:00:00",
                "end": "2030-12-11T14:00:00",
                "timezone": "Europe/London",
                "impact": "exclusive_lock",
            },
            format="json",
        ).json()["id"]
        alice.post(f"/api/v1/jobs/{job_id}/submit", format="json")
        approved = bob.post(f"/api/v1/jobs/{job_id}/approve", {"team": "grading"}, format="json")
        assert approved.json()["status"] == "approved"
        lms_feed = feed(
            lms.serve("/canvas.ics", CAPSTONE.replace("\n", "\r\n")), team=curriculum["team"]
        )
        mail.outbox.clear()

        result = feed_sync(feed_id=lms_feed.pk)

    assert result.ok and result.changes["created"] == 1
    job = alice.get(f"/api/v1/jobs/{job_id}").json()
    assert job["status"] == "conflicted"
    assert job["decision"] == "refuse"
    assert "Capstone project" in job["findings"][0]["message"]
    assert "Capstone project" in job["history"][-1]["reason"]
    assert any("no longer approved" in message.subject for message in mail.outbox)

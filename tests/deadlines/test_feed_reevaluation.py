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


EMPTY = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:icalendar-ruby\r\nEND:VCALENDAR\r\n"


def test_a_deadline_the_feed_drops_approves_the_job_again_and_tells_the_team_once(
    lms, curriculum, grading_stack
):
    from scheduling.models import Delivery
    from scheduling.services.reviews import maintenance_job_review
    from scheduling.services.submission import maintenance_job_submit

    grading_stack["infra"].webhook_url = "https://hooks.example.org/infra"
    grading_stack["infra"].save()
    alice = builders.user("alice", team=grading_stack["infra"])
    bob = builders.user("bob", team=grading_stack["grading"])
    with time_machine.travel(at(1, 9), tick=False):
        job = builders.job(by=alice, start=at(12, 8), end=at(12, 14))
        maintenance_job_submit(job_id=job.pk, by=alice)
        maintenance_job_review(job_id=job.pk, team="grading", approve=True, by=bob)
        url = lms.serve("/canvas.ics", CAPSTONE.replace("\n", "\r\n"))
        lms_feed = feed(url, team=curriculum["team"])
        feed_sync(feed_id=lms_feed.pk)
        assert as_user(alice).get(f"/api/v1/jobs/{job.pk}").json()["status"] == "conflicted"

        lms.serve("/canvas.ics", EMPTY)
        dropped = feed_sync(feed_id=lms_feed.pk)
        feed_sync(feed_id=lms_feed.pk)

    assert dropped.ok and dropped.changes["withdrawn"] == 1
    after = as_user(alice).get(f"/api/v1/jobs/{job.pk}").json()
    assert (after["status"], after["history"][-1]["action"]) == ("approved", "conflict_cleared")
    cleared = Delivery.objects.filter(job_id=job.pk, event="conflict_cleared")
    assert sorted(cleared.values_list("channel", flat=True)) == [
        "email:grading@example.org",
        "email:infra@example.org",
        "webhook:https://hooks.example.org/infra",
    ]

import gzip

import pytest
from django.conf import settings
from django.core.cache import caches
from django.test import Client
from icalendar import Calendar

from scheduling.calendar_feeds.tokens import feed_token_create
from tests import builders


@pytest.fixture(autouse=True)
def _empty_feed_cache():
    caches[settings.CLEARWAY_FEED_CACHE].clear()


@pytest.fixture
def subscriber(db):
    """A signed-in person's feed token: (user, secret)."""
    person = builders.user("sam")
    _, secret = feed_token_create(user=person, name="Phone")
    return person, secret


def body_of(response) -> bytes:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if response.get("Content-Encoding") == "gzip":
        content = gzip.decompress(content)
    return content


class Feeds:
    """Fetch a token's feeds and parse them back with icalendar."""

    def __init__(self, secret: str):
        self.secret = secret
        self.client = Client()

    def get(self, feed: str = "all", **headers):
        query = headers.pop("query", "")
        return self.client.get(f"/calendar/{self.secret}/{feed}.ics{query}", headers=headers)

    def calendar(self, feed: str = "all", query: str = "") -> Calendar:
        response = self.get(feed, query=query)
        assert response.status_code == 200, response.content
        return Calendar.from_ical(body_of(response))

    def events(self, feed: str = "all", query: str = "") -> dict[str, object]:
        return {str(e["UID"]): e for e in self.calendar(feed, query).walk("VEVENT")}


@pytest.fixture
def feeds(subscriber):
    return Feeds(subscriber[1])


@pytest.fixture
def people(grading_stack):
    """alice books for infra; bob reviews for grading (owner of grading-db's dependents)."""
    return {
        "alice": builders.user("alice", team=grading_stack["infra"]),
        "bob": builders.user("bob", team=grading_stack["grading"]),
    }


def submitted(job, *, by):
    from scheduling.services.submission import maintenance_job_submit

    return maintenance_job_submit(job_id=job.pk, by=by)


def approved(job, *, by, reviewer):
    from scheduling.services.reviews import maintenance_job_review

    job = submitted(job, by=by)
    job = maintenance_job_review(job_id=job.pk, team="grading", by=reviewer, approve=True)
    assert job.status == "approved", job.status
    return job

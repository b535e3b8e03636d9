"""Assembling a feed from stored event texts: bounded queries, renders only what changed."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from scheduling.calendar_feeds import assembly, render
from scheduling.calendar_feeds.sources import FeedQuery
from scheduling.models import FeedText
from scheduling.services.submission import maintenance_job_update
from tests import builders
from tests.feeds.conftest import body_of, submitted


def calendar_of(people, size: int) -> list:
    jobs = []
    for n in range(size):
        start = builders.at(2 + n, 8)
        jobs.append(
            submitted(
                builders.job(title=f"Job {n}", start=start, by=people["alice"], impact="none"),
                by=people["alice"],
            )
        )
        builders.blackout(
            title=f"Blackout {n}",
            start=start + timedelta(hours=12),
            end=start + timedelta(hours=14),
            timezone="Europe/London",
            rrule="FREQ=WEEKLY;COUNT=3",
        )
        builders.deadline(title=f"Deadline {n}", due=start + timedelta(days=1))
    return jobs


def queries_for(feeds, feed: str = "all") -> int:
    with CaptureQueriesContext(connection) as captured:
        response = feeds.get(feed)
        assert response.status_code == 200
        body_of(response)
    return len(captured)


@pytest.fixture
def counting(monkeypatch):
    """How many events were rendered (missing or stale texts)."""
    rendered = []
    original = render._event_text

    def spy(event):
        rendered.append(event.uid)
        return original(event)

    monkeypatch.setattr(render, "_event_text", spy)
    return rendered


def test_the_query_count_does_not_grow_with_the_calendar(
    feeds, people, frozen_now, django_assert_max_num_queries, monkeypatch
):
    monkeypatch.setattr(assembly, "VALIDATOR_TTL", 0)  # count the validator every time
    feeds.get("all")  # the token's first use writes last_used once
    calendar_of(people, 2)
    FeedText.objects.all().delete()  # every text to render
    small_cold, small_warm = queries_for(feeds), queries_for(feeds)
    calendar_of(people, 10)
    FeedText.objects.all().delete()

    with django_assert_max_num_queries(small_cold):
        big_cold = queries_for(feeds)
    big_warm = queries_for(feeds)

    assert big_cold == small_cold
    assert big_warm == small_warm < small_cold


def test_a_change_is_rendered_once_by_the_service_and_the_feed_renders_nothing(
    feeds, people, frozen_now, counting
):
    jobs = calendar_of(people, 3)
    # Each service stored its row's text: a job, a blackout, a deadline and its traffic window.
    assert len(counting) == 3 * 4
    counting.clear()
    before = body_of(feeds.get("all"))
    assert counting == []

    maintenance_job_update(job_id=jobs[1].pk, by=people["alice"], title="Renamed")
    assert counting == [f"job-{jobs[1].pk}@clearway"]
    counting.clear()
    changed = body_of(feeds.get("all"))

    assert counting == []
    assert changed != before and b"Renamed" in changed


def test_a_missing_text_is_rendered_by_the_first_feed_only(feeds, people, frozen_now, counting):
    calendar_of(people, 2)
    FeedText.objects.all().delete()
    counting.clear()

    first = body_of(feeds.get("all"))
    rendered = len(counting)
    second = body_of(feeds.get("all"))

    assert rendered == 2 * 4
    assert len(counting) == rendered
    assert second == first


def test_pages_assemble_the_same_calendar(people, frozen_now):
    calendar_of(people, 5)
    query = FeedQuery(feed="all", now=frozen_now)

    whole = b"".join(assembly.feed_body(query=query))
    FeedText.objects.all().delete()
    paged = list(assembly.feed_body(query=query, page=2))

    # header, 3 pages of jobs, 3 of blackouts, 3 of deadlines, end
    assert len(paged) == 1 + 3 + 3 + 3 + 1
    assert b"".join(paged) == whole
    assert b"".join(assembly.feed_body(query=query, page=2)) == whole  # stored, paged

"""A feed never waits behind a writer of the stored texts (PostgreSQL: real row locks)."""

import time
from contextlib import contextmanager

import psycopg
import pytest
from django.db.models import F

from scheduling.models import FeedText, MaintenanceJob
from tests import builders
from tests.feeds.conftest import approved
from tests.reliability.conftest import postgres_only, shared_database_url

pytestmark = [postgres_only, pytest.mark.django_db(transaction=True)]


@contextmanager
def texts_locked(kind: str):
    """Another session holds the rows of `kind`'s texts, as a service's transaction would."""
    with psycopg.connect(shared_database_url(), autocommit=False) as other:
        other.execute("SELECT id FROM scheduling_feedtext WHERE kind = %s FOR UPDATE", [kind])
        try:
            yield
        finally:
            other.rollback()


def test_a_feed_that_meets_a_locked_text_serves_a_fresh_render_at_once(feeds, people, frozen_now):
    job = approved(
        builders.job(title="Reindex grades", by=people["alice"], impact="none"),
        by=people["alice"],
        reviewer=people["bob"],
    )
    feeds.events("all")
    stored = FeedText.objects.get(kind="job", row_id=job.pk)
    # Changed without the services: the stored text is stale and must be written again.
    MaintenanceJob.objects.filter(pk=job.pk).update(title="Renamed", version=F("version") + 1)

    with texts_locked("job"):
        started = time.monotonic()
        events = feeds.events("all")
        took = time.monotonic() - started

    assert events[f"job-{job.pk}@clearway"]["SUMMARY"] == "Maintenance: Renamed (grading-db)"
    # The write was skipped after the bookkeeping lock timeout (10 ms), not
    # after the session's lock_timeout (3 s).
    assert took < 1.5, f"the feed took {took:.2f} s behind the lock"
    assert FeedText.objects.get(pk=stored.pk).stamp == stored.stamp
    feeds.events("all")
    assert FeedText.objects.get(pk=stored.pk).stamp != stored.stamp

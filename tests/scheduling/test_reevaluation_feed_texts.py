"""A re-evaluation stores the feed texts of the jobs it changed once, at its end."""

import pytest
from django.utils import timezone

from scheduling.calendar_feeds import stored
from scheduling.calendar_feeds.sources import FeedQuery, all_sources
from scheduling.calendar_feeds.stored import feed_texts_gathered, feed_texts_store
from scheduling.models import FeedText
from tests.builders import at
from tests.personas import as_user
from tests.scheduling.test_reevaluation import blackout_body
from tests.workflow import approved_job

pytestmark = pytest.mark.django_db(transaction=True)


def job_source():
    return next(source for source in all_sources() if source.kind == "job")


def test_two_jobs_conflicted_by_one_blackout_have_their_texts_rendered_in_one_pass(
    requester, reviewer, admin, monkeypatch
):
    jobs = [
        approved_job(requester=requester, reviewer=reviewer, title=title, start=at(10, hour))
        for title, hour in (("Reindex grades", 2), ("Vacuum grades", 16))
    ]
    passes = []
    real = stored.texts_for

    def counting(**kwargs):
        if kwargs["source"].kind == "job":
            passes.append(sorted(entry.pk for entry in kwargs["entries"]))
        return real(**kwargs)

    monkeypatch.setattr(stored, "texts_for", counting)

    as_user(admin).post("/api/v1/blackouts", blackout_body(), format="json")

    assert passes == [sorted(job.pk for job in jobs)]


def test_the_texts_stored_after_a_reevaluation_are_current(requester, reviewer, admin):
    job = approved_job(requester=requester, reviewer=reviewer)

    as_user(admin).post("/api/v1/blackouts", blackout_body(), format="json")

    source = job_source()
    query = FeedQuery(feed=source.feed, now=timezone.now())
    [entry] = source.entries(query=query, ids=[job.pk], limit=1)
    assert entry.text is not None  # stored, under the stamp of the row as it is now
    assert b"conflicted" in entry.text.lower()


def test_texts_asked_for_inside_a_gathering_block_wait_for_its_end(
    requester, reviewer, monkeypatch
):
    job = approved_job(requester=requester, reviewer=reviewer)
    FeedText.objects.all().delete()

    with feed_texts_gathered():
        feed_texts_store(kind="job", ids=[job.pk])
        feed_texts_store(kind="job", ids=[job.pk])
        assert not FeedText.objects.exists()

    assert list(FeedText.objects.values_list("kind", "row_id")) == [("job", job.pk)]

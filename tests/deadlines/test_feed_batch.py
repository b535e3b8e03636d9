"""A feed sync writes its deadlines in bulk: one calendar change and one re-evaluation task."""

import json
from datetime import timedelta
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from rest_framework.test import APIClient

from deadlines.choices import FeedFormat
from deadlines.feeds.sync import feed_sync
from deadlines.services import deadline_create, deadline_withdraw
from scheduling.models import CalendarChange, MaintenanceJob
from scheduling.queue import enqueue
from scheduling.services.submission import maintenance_job_submit
from tests import builders
from tests.builders import at
from tests.deadlines.helpers import feed, live
from tests.workflow import approved_job

# Re-evaluation runs after the commit, so these tests commit.
pytestmark = pytest.mark.django_db(transaction=True)

JSON = "application/json"


def events(count: int, *, shift: timedelta = timedelta(0)) -> list[dict]:
    """`count` deadlines a day apart from 2030-12-05; the first is big enough to refuse."""
    return [
        {
            "uid": f"event-{n}",
            "title": f"Assignment {n}",
            "due": (at(5 + n, 23, 59) + shift).isoformat(),
            "cohort_size": 2000 if n == 0 else 150,
            "systems": ["grading-api"] if n % 2 == 0 else ["submissions-web"],
        }
        for n in range(count)
    ]


def json_feed(lms, curriculum, items: list[dict]):
    url = lms.serve("/feed.json", json.dumps(items), content_type=JSON)
    return feed(url, team=curriculum["team"], feed_format=FeedFormat.JSON)


def pending_jobs(infra_user) -> list[int]:
    """Jobs on grading-db across the feed's days, submitted (pending review)."""
    ids = []
    for day in (5, 7, 8, 12):
        job = builders.job(systems=("grading-db",), start=at(day, 8), owner=infra_user.team)
        maintenance_job_submit(job_id=job.pk, by=infra_user)
        ids.append(job.pk)
    return ids


def outcome(job_ids: list[int]) -> list[tuple]:
    jobs = MaintenanceJob.objects.filter(pk__in=job_ids).order_by("pk")
    return [(job.status, job.decision, sorted(f["kind"] for f in job.findings)) for job in jobs]


@pytest.fixture
def infra_user(grading_stack):
    person = builders.user("ivan", team=grading_stack["infra"])
    person.team = grading_stack["infra"]
    return person


def test_a_sync_of_many_new_deadlines_records_one_change_and_queues_one_task(
    clock, lms, curriculum
):
    lms_feed = json_feed(lms, curriculum, events(20))
    changes_before = CalendarChange.objects.count()

    with mock.patch("scheduling.services.calendar.enqueue", wraps=enqueue) as queued:
        result = feed_sync(feed_id=lms_feed.pk)

    assert result.changes["created"] == 20
    assert CalendarChange.objects.count() == changes_before + 1
    assert [c.args[0] for c in queued.call_args_list] == ["scheduling.tasks.reevaluate_windows"]


def test_a_sync_moving_every_deadline_records_one_change_and_queues_one_task(
    clock, lms, curriculum
):
    lms_feed = json_feed(lms, curriculum, events(20))
    feed_sync(feed_id=lms_feed.pk)
    lms.serve("/feed.json", json.dumps(events(20, shift=timedelta(days=1))), content_type=JSON)
    changes_before = CalendarChange.objects.count()

    with mock.patch("scheduling.services.calendar.enqueue", wraps=enqueue) as queued:
        result = feed_sync(feed_id=lms_feed.pk)

    assert result.changes["updated"] == 20
    assert CalendarChange.objects.count() == changes_before + 1
    assert len(queued.call_args_list) == 1
    assert live(lms_feed)["event-3"].due == at(9, 23, 59)
    assert live(lms_feed)["event-3"].version == 2


def test_a_bulk_sync_conflicts_and_flags_the_same_jobs_as_deadlines_published_one_by_one(
    clock, lms, curriculum, infra_user
):
    job_ids = pending_jobs(infra_user)
    items = events(6)
    lms_feed = json_feed(lms, curriculum, items)
    feed_sync(feed_id=lms_feed.pk)
    from_sync = outcome(job_ids)
    lms.serve("/feed.json", "[]", content_type=JSON)
    feed_sync(feed_id=lms_feed.pk)
    manual = [
        deadline_create(
            team=curriculum["team"],
            title=item["title"],
            due=at(5 + n, 23, 59),
            cohort_size=item["cohort_size"],
            systems=item["systems"],
        )
        for n, item in enumerate(items)
    ]

    assert from_sync == outcome(job_ids)
    assert any(status == "conflicted" for status, _, _ in from_sync)
    for deadline in manual:
        deadline_withdraw(deadline=deadline)


def test_a_sync_withdrawing_the_refusing_deadline_returns_the_job_to_approval(
    clock, lms, curriculum, grading_stack, infra_user
):
    reviewer = builders.user("gina", team=grading_stack["grading"])
    job = approved_job(requester=infra_user, reviewer=reviewer, start=at(5, 8))
    lms_feed = json_feed(lms, curriculum, events(6))
    feed_sync(feed_id=lms_feed.pk)
    assert MaintenanceJob.objects.get(pk=job.pk).status == "conflicted"
    lms.serve("/feed.json", json.dumps(events(6)[1:]), content_type=JSON)

    with mock.patch("scheduling.services.calendar.enqueue", wraps=enqueue) as queued:
        result = feed_sync(feed_id=lms_feed.pk)

    assert result.changes["withdrawn"] == 1
    assert len(queued.call_args_list) == 1
    assert MaintenanceJob.objects.get(pk=job.pk).status == "approved"


def test_the_timeline_after_a_bulk_sync_equals_a_full_rebuild(clock, lms, curriculum):
    lms_feed = json_feed(lms, curriculum, events(12))
    feed_sync(feed_id=lms_feed.pk)
    lms.serve("/feed.json", json.dumps(events(8, shift=timedelta(hours=5))), content_type=JSON)
    feed_sync(feed_id=lms_feed.pk)

    call_command("rebuild_timeline", "--check")  # exits non-zero on any difference


def test_an_upload_records_one_change_and_queues_one_task_and_a_second_one_changes_nothing(
    clock, curriculum
):
    rows = "".join(
        f"Essay {n},HIST101,,350,2030-12-{5 + n:02d}T17:00:00Z,,grading-api\n" for n in range(15)
    )
    content = "title,course,cohort,cohort_size,due,timezone,systems\n" + rows
    client = APIClient()
    client.force_authenticate(curriculum["carol"])
    changes_before = CalendarChange.objects.count()

    def post():
        return client.post(
            "/api/v1/deadlines/upload",
            {"file": SimpleUploadedFile("essays.csv", content.encode()), "team": "curriculum"},
            format="multipart",
        ).json()

    with mock.patch("scheduling.services.calendar.enqueue", wraps=enqueue) as queued:
        first, second = post(), post()

    assert (first["created"], second["created"], second["unchanged"]) == (15, 0, 15)
    assert CalendarChange.objects.count() == changes_before + 1
    assert len(queued.call_args_list) == 1
    call_command("rebuild_timeline", "--check")


def test_a_sync_stores_the_feed_texts_of_its_deadlines_after_it_commits(clock, lms, curriculum):
    from scheduling.models import FeedText

    lms_feed = json_feed(lms, curriculum, events(20))

    feed_sync(feed_id=lms_feed.pk)

    ids = [deadline.pk for deadline in live(lms_feed).values()]
    stored = FeedText.objects.filter(kind="deadline", row_id__in=ids)
    assert len(ids) == 20
    assert stored.values("row_id").distinct().count() == 20

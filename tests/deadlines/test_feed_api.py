"""/api/v1/deadline-feeds: curriculum staff register their LMS feed and sync it on demand."""

from datetime import timedelta

import pytest
from django.utils.dateparse import parse_duration
from rest_framework.test import APIClient

from deadlines.models import Deadline, DeadlineFeed
from tests import builders
from tests.deadlines.helpers import feed

pytestmark = pytest.mark.django_db


def as_user(person) -> APIClient:
    client = APIClient()
    client.force_authenticate(person)
    return client


def moodle_feed(address: str, **overrides) -> dict:
    return {
        "url": address,
        "format": "ics",
        "team": "curriculum",
        "cohort": "CS 2026",
        "cohort_size": 1800,
        "systems": ["grading-api"],
        "interval": "PT30M",
        **overrides,
    }


def test_curriculum_staff_register_a_feed(clock, curriculum):
    carol = as_user(curriculum["carol"])
    url = "https://moodle.example.edu/calendar/export_execute.php?userid=7&authtoken=s3cret"

    created = carol.post("/api/v1/deadline-feeds", moodle_feed(url), format="json")

    assert created.status_code == 201, created.json()
    body = created.json()
    expected = moodle_feed(url, interval="PT30M")  # durations answer in ISO 8601
    assert {key: body[key] for key in expected} == expected
    assert body["next_sync_at"] == "2030-12-01T00:00:00Z"
    assert body["last_success_at"] is None
    assert body["deadline_count"] == 0
    stored = DeadlineFeed.objects.get(pk=body["id"])
    assert stored.created_by == curriculum["carol"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"url": "ftp://moodle.example.edu/c.ics"}, "url"),
        ({"url": "http://169.254.169.254/latest/meta-data/"}, "url"),
        ({"url": "http://user:pw@moodle.example.edu/c.ics"}, "url"),
        ({"cohort_size": 0}, "cohort_size"),
        ({"interval": "PT1M"}, "interval"),
        ({"interval": "soon"}, "interval"),
        ({"interval": "P60D"}, "interval"),
        ({"interval": "P999999999D"}, "interval"),
        ({"cohort_size": 10**12}, "cohort_size"),
        ({"url": "https://moodle.example.edu/c.ics\u0000"}, "url"),
        ({"systems": ["no-such-system"]}, "systems"),
        ({"format": "xml"}, "format"),
    ],
)
def test_an_invalid_feed_is_refused_per_field(change, field, curriculum, settings):
    settings.CLEARWAY_FEED_ALLOWED_NETWORKS = []
    carol = as_user(curriculum["carol"])

    answer = carol.post(
        "/api/v1/deadline-feeds",
        moodle_feed("https://moodle.example.edu/c.ics", **change),
        format="json",
    )

    assert answer.status_code == 400
    assert field in answer.json()["errors"]
    assert not DeadlineFeed.objects.exists()


def test_only_the_team_changes_its_feeds_and_others_do_not_see_the_token(curriculum):
    outsider = as_user(builders.user("olly", team=builders.team("physics")))
    secret = "https://moodle.example.edu/export.php?authtoken=s3cret"
    target = feed(secret, team=curriculum["team"])

    refused = outsider.post("/api/v1/deadline-feeds", moodle_feed(secret), format="json")
    patched = outsider.patch(f"/api/v1/deadline-feeds/{target.pk}", {"enabled": False})
    synced = outsider.post(f"/api/v1/deadline-feeds/{target.pk}/sync")
    seen = outsider.get(f"/api/v1/deadline-feeds/{target.pk}").json()

    assert (refused.status_code, patched.status_code, synced.status_code) == (403, 403, 403)
    assert seen["url"] == "https://moodle.example.edu/…"
    own = as_user(curriculum["carol"]).get(f"/api/v1/deadline-feeds/{target.pk}").json()
    assert own["url"] == secret


def test_staff_change_any_feed(curriculum):
    admin = as_user(builders.user("ada", staff=True))
    target = feed("https://moodle.example.edu/c.ics", team=curriculum["team"])

    answer = admin.patch(f"/api/v1/deadline-feeds/{target.pk}", {"interval": "PT2H"}, format="json")

    assert answer.status_code == 200, answer.json()
    assert parse_duration(answer.json()["interval"]) == timedelta(hours=2)


def test_changing_the_url_drops_the_validators_and_syncs_soon(clock, curriculum):
    target = feed("https://moodle.example.edu/a.ics", team=curriculum["team"])
    DeadlineFeed.objects.filter(pk=target.pk).update(
        etag='"v1"', last_modified="Sat, 30 Nov 2030 08:00:00 GMT", next_sync_at=builders.at(2)
    )

    answer = as_user(curriculum["carol"]).patch(
        f"/api/v1/deadline-feeds/{target.pk}",
        {"url": "https://moodle.example.edu/b.ics"},
        format="json",
    )

    assert answer.status_code == 200
    target.refresh_from_db()
    assert (target.etag, target.last_modified, target.next_sync_at) == ("", "", clock)


@pytest.mark.django_db(transaction=True)
def test_the_sync_action_syncs_now_and_shows_the_state(clock, lms, curriculum):
    target = feed(lms.serve_fixture("/moodle.ics", "moodle.ics"), team=curriculum["team"])

    answer = as_user(curriculum["carol"]).post(f"/api/v1/deadline-feeds/{target.pk}/sync")

    assert answer.status_code == 202
    body = answer.json()
    assert body["last_success_at"] == "2030-12-01T00:00:00Z"
    assert body["deadline_count"] == 3
    assert body["last_error"] == ""
    assert Deadline.objects.filter(feed=target).count() == 3


@pytest.mark.django_db(transaction=True)
def test_the_sync_action_shows_a_failure(clock, lms, curriculum):
    target = feed(lms.serve("/gone.ics", "gone", status=410), team=curriculum["team"])

    body = as_user(curriculum["carol"]).post(f"/api/v1/deadline-feeds/{target.pk}/sync").json()

    assert body["last_error"] == "The feed answered HTTP 410 Gone."
    assert body["failure_count"] == 1


def test_deleting_a_feed_withdraws_its_deadlines(clock, lms, curriculum):
    from deadlines.feeds.sync import feed_sync

    target = feed(lms.serve_fixture("/moodle.ics", "moodle.ics"), team=curriculum["team"])
    feed_sync(feed_id=target.pk)

    answer = as_user(curriculum["carol"]).delete(f"/api/v1/deadline-feeds/{target.pk}")

    assert answer.status_code == 204
    assert not DeadlineFeed.objects.exists()
    kept = Deadline.objects.filter(source="feed")
    assert kept.count() == 3, "the rows stay as history"
    assert all(d.withdrawn_at == clock for d in kept)


def test_a_feed_deadline_is_changed_in_the_lms_not_by_hand(clock, lms, curriculum):
    from deadlines.feeds.sync import feed_sync

    target = feed(lms.serve_fixture("/moodle.ics", "moodle.ics"), team=curriculum["team"])
    feed_sync(feed_id=target.pk)
    deadline = Deadline.objects.filter(feed=target).first()
    carol = as_user(curriculum["carol"])

    patched = carol.patch(f"/api/v1/deadlines/{deadline.pk}", {"title": "x"}, format="json")
    deleted = carol.delete(f"/api/v1/deadlines/{deadline.pk}")

    assert (patched.status_code, deleted.status_code) == (409, 409)
    assert patched.json()["code"] == "from_feed"
    assert carol.get(f"/api/v1/deadlines/{deadline.pk}").json()["feed"] == target.pk


def test_listing_feeds_takes_a_fixed_number_of_queries(curriculum, django_assert_max_num_queries):
    for n in range(5):
        feed(f"https://moodle.example.edu/{n}.ics", team=curriculum["team"])
    carol = as_user(curriculum["carol"])

    with django_assert_max_num_queries(6):
        answer = carol.get("/api/v1/deadline-feeds")

    assert answer.json()["count"] == 5

"""The feed over HTTP: tokens, filters, conditional GET, compression, the public feed."""

import gzip
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils.http import http_date
from icalendar import Calendar

from blackouts.services import blackout_delete
from scheduling.calendar_feeds import assembly
from scheduling.calendar_feeds.tokens import feed_token_revoke
from scheduling.models import FeedToken
from scheduling.services.submission import maintenance_job_update
from tests import builders
from tests.feeds.conftest import approved, body_of, submitted


@pytest.fixture
def calendar(people, frozen_now):
    """One job, two blackouts and a deadline on different systems and teams."""
    job = submitted(builders.job(title="Vacuum", by=people["alice"]), by=people["alice"])
    everywhere = builders.blackout(title="Exams")
    reporting = builders.team("reporting")
    builders.system("reports", owner=reporting)
    elsewhere = builders.blackout(title="Reports freeze", systems=["reports"], owner=reporting)
    deadline = builders.deadline(title="Essay", systems=["submissions-web"])
    return {"job": job, "everywhere": everywhere, "elsewhere": elsewhere, "deadline": deadline}


def uids(feeds, feed="all", query="") -> set[str]:
    return set(feeds.events(feed, query))


def test_a_feed_is_a_private_calendar_file(feeds, calendar):
    response = feeds.get("all")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.streaming
    assert response["ETag"].startswith('W/"')
    assert response["Last-Modified"]
    assert response["Referrer-Policy"] == "no-referrer"
    assert response["Cache-Control"] == "private, max-age=300"
    assert Calendar.from_ical(body_of(response)).walk("VEVENT")


@pytest.mark.parametrize(
    ("feed", "expected"),
    [
        ("all", {"job", "everywhere", "elsewhere", "deadline", "traffic"}),
        ("maintenance", {"job"}),
        ("blackouts", {"everywhere", "elsewhere"}),
        ("deadlines", {"deadline", "traffic"}),
    ],
)
def test_each_feed_has_its_own_kind_of_event(feeds, calendar, feed, expected):
    names = {
        f"job-{calendar['job'].pk}@clearway": "job",
        f"blackout-{calendar['everywhere'].pk}@clearway": "everywhere",
        f"blackout-{calendar['elsewhere'].pk}@clearway": "elsewhere",
        f"deadline-{calendar['deadline'].pk}@clearway": "deadline",
        f"traffic-{calendar['deadline'].pk}@clearway": "traffic",
    }
    assert {names[uid] for uid in uids(feeds, feed)} == expected


def test_systems_filter_keeps_what_touches_them_including_dependencies(feeds, calendar):
    # The job is booked on grading-db; grading-api depends on it.
    found = uids(feeds, query="?systems=grading-api")

    assert f"job-{calendar['job'].pk}@clearway" in found
    assert f"blackout-{calendar['everywhere'].pk}@clearway" in found  # applies to all
    assert f"blackout-{calendar['elsewhere'].pk}@clearway" not in found
    # The deadline is on submissions-web, which depends on grading-api: its
    # traffic refuses work on grading-api, so grading-api's feed shows it.
    assert f"deadline-{calendar['deadline'].pk}@clearway" in found
    assert f"deadline-{calendar['deadline'].pk}@clearway" not in uids(
        feeds, query="?systems=reports"
    )


def test_team_filter_keeps_what_the_team_owns_and_what_is_on_its_systems(feeds, calendar):
    # reporting owns `reports` and the "Reports freeze" blackout; "Exams" is on every system.
    assert uids(feeds, query="?team=reporting") == {
        f"blackout-{calendar['elsewhere'].pk}@clearway",
        f"blackout-{calendar['everywhere'].pk}@clearway",
    }


def test_team_and_systems_filters_both_apply(feeds, calendar):
    # reporting's own blackout is on `reports`, which does not reach grading-db.
    assert uids(feeds, query="?team=reporting&systems=grading-db") == {
        f"blackout-{calendar['everywhere'].pk}@clearway"
    }


def test_unknown_filters_are_a_json_error_not_an_empty_calendar(feeds, calendar):
    response = feeds.get("all", query="?systems=grading-db,nope&team=ghosts")

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "systems": ["Unknown system(s): nope."],
        "team": ["There is no team 'ghosts'."],
    }


@pytest.mark.parametrize(
    ("query", "field"),
    [("?systems=grading-db%00", "systems"), ("?team=infra%00", "team")],
)
def test_a_nul_character_in_a_filter_is_a_400_not_a_500(feeds, calendar, query, field):
    # PostgreSQL cannot compare a text with a NUL in it: asked as typed, the
    # lookup failed with a DataError, a 500 for the calendar app.
    response = feeds.get("all", query=query)

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]


@pytest.mark.parametrize(
    "path",
    [
        "/calendar/cwf_unknownunknownunknownunknownunknown/all.ics",
        "/calendar/not-even-a-token/all.ics",
        "/calendar/{secret}/everything.ics",
    ],
)
def test_unknown_tokens_and_feeds_answer_404(subscriber, path):
    response = Client().get(path.format(secret=subscriber[1]))

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    # The address may still be someone's secret: it must not leak as a Referer.
    assert response["Referrer-Policy"] == "no-referrer"


def test_a_revoked_token_answers_404(feeds, subscriber, frozen_now):
    person = subscriber[0]
    assert feeds.get("all").status_code == 200

    feed_token_revoke(token_id=FeedToken.objects.get(user=person).pk, user=person)

    assert feeds.get("all").status_code == 404


def test_a_deactivated_persons_token_answers_404(feeds, subscriber, frozen_now):
    person, _ = subscriber
    person.is_active = False
    person.save()

    assert feeds.get("all").status_code == 404


def test_last_used_is_written_at_most_once_a_minute(feeds, subscriber, frozen_now):
    token = FeedToken.objects.get(user=subscriber[0])
    assert token.last_used is None

    feeds.get("all")
    token.refresh_from_db()
    assert token.last_used == frozen_now

    with time_machine.travel(frozen_now + timedelta(seconds=50), tick=False):
        feeds.get("all")
    token.refresh_from_db()
    assert token.last_used == frozen_now

    with time_machine.travel(frozen_now + timedelta(minutes=2), tick=False):
        feeds.get("all")
    token.refresh_from_db()
    assert token.last_used == frozen_now + timedelta(minutes=2)


def test_a_matching_etag_answers_304_without_a_body(feeds, calendar, django_assert_num_queries):
    first = feeds.get("all")
    body_of(first)

    # The token lookup only: the validator is cached, no event is read.
    with django_assert_num_queries(1):
        again = feeds.get("all", If_None_Match=first["ETag"])

    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == first["ETag"]
    assert again["Referrer-Policy"] == "no-referrer"


def test_the_validator_is_counted_not_built(feeds, calendar, django_assert_num_queries):
    feeds.get("all")  # the token's first use writes last_used
    assembly._store().clear()

    # The token lookup, the catalogue's names (teams, systems, dependencies),
    # one aggregate query per source (jobs, blackouts, freezes, deadlines), the
    # jobs' reviews and reviewers' names, and the cohorts' names (deadlines).
    with django_assert_num_queries(11):
        response = feeds.get("all", If_None_Match='W/"stale"')

    assert response.status_code == 200


def test_a_change_reaches_the_etag_within_a_minute(feeds, calendar, people, frozen_now):
    first = feeds.get("all")
    maintenance_job_update(job_id=calendar["job"].pk, by=people["alice"], title="Vacuum full")

    # The body is always fresh; the validator is kept for VALIDATOR_TTL seconds.
    assert b"Vacuum full" in body_of(feeds.get("all"))
    with time_machine.travel(frozen_now + timedelta(seconds=assembly.VALIDATOR_TTL + 1)):
        again = feeds.get("all", If_None_Match=first["ETag"])
    assert again.status_code == 200
    assert again["ETag"] != first["ETag"]


def test_an_unchanged_last_modified_answers_304(feeds, calendar):
    first = feeds.get("all")

    again = feeds.get("all", If_Modified_Since=first["Last-Modified"])

    assert again.status_code == 304


def test_a_change_gives_a_new_etag_and_body(feeds, calendar, people, frozen_now):
    first = feeds.get("all")
    with time_machine.travel(frozen_now + timedelta(hours=1), tick=False):
        approved_job = approved(
            builders.job(title="Failover", start=builders.at(20, 8), by=people["alice"]),
            by=people["alice"],
            reviewer=people["bob"],
        )
        again = feeds.get("all", If_None_Match=first["ETag"])

    assert again.status_code == 200
    assert again["ETag"] != first["ETag"]
    assert f"job-{approved_job.pk}@clearway".encode() in body_of(again)


def test_a_deletion_changes_both_validators(feeds, calendar, frozen_now):
    """Nothing grows when a row goes: the count changes the ETag, and Last-Modified
    is when that ETag was first served, so If-Modified-Since alone is not fooled."""
    first = feeds.get("all")
    with time_machine.travel(frozen_now + timedelta(hours=1), tick=False):
        blackout_delete(blackout=calendar["elsewhere"])
        by_etag = feeds.get("all", If_None_Match=first["ETag"])
        by_date = feeds.get("all", If_Modified_Since=first["Last-Modified"])

    assert by_etag.status_code == 200
    assert by_date.status_code == 200
    assert by_date["Last-Modified"] == http_date((frozen_now + timedelta(hours=1)).timestamp())


def test_the_feed_is_gzipped_when_the_client_accepts_it(feeds, calendar):
    plain = body_of(feeds.get("all"))

    response = feeds.get("all", Accept_Encoding="gzip, deflate")

    assert response["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response["Vary"]
    assert gzip.decompress(b"".join(response.streaming_content)) == plain


def test_head_answers_the_headers_only_and_writes_are_refused(feeds, subscriber, calendar):
    head = feeds.client.head(f"/calendar/{subscriber[1]}/all.ics")
    assert head.status_code == 200
    assert head["ETag"]
    assert head.content == b""

    assert feeds.client.post(f"/calendar/{subscriber[1]}/all.ics").status_code == 405


def test_the_public_feed_is_off_by_default(calendar):
    assert Client().get("/calendar/public/grading-db.ics").status_code == 404


def test_the_public_feed_shows_approved_maintenance_only(settings, people, frozen_now):
    settings.CLEARWAY_PUBLIC_CALENDARS = True
    done = approved(
        builders.job(title="Failover", by=people["alice"]),
        by=people["alice"],
        reviewer=people["bob"],
    )
    submitted(
        builders.job(title="Pending", start=builders.at(20, 8), by=people["alice"]),
        by=people["alice"],
    )
    builders.blackout(title="Exams")
    builders.deadline(title="Essay")

    response = Client().get("/calendar/public/grading-api.ics")

    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=300"
    [event] = Calendar.from_ical(body_of(response)).walk("VEVENT")
    assert event["UID"] == f"job-{done.pk}@clearway"
    assert event["STATUS"] == "CONFIRMED"
    description = str(event["DESCRIPTION"])
    assert "Planned maintenance by Infrastructure on grading-db" in description
    assert "bob" not in description and "Reviews" not in description
    assert Client().get("/calendar/public/no-such-system.ics").status_code == 404

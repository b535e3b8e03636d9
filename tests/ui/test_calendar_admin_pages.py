"""Blackout and deadline pages: administrators and curriculum staff, errors by fields."""

from datetime import UTC, timedelta

import pytest

from blackouts.models import Blackout
from deadlines.models import Deadline, DeadlineFeed
from tests import builders
from tests.ui.conftest import client_for
from tests.ui.test_pages import error_next_to, soon

pytestmark = pytest.mark.django_db


def blackout_post(**overrides) -> dict:
    start = soon(5, 12)
    return {
        "title": "Exam boards",
        "reason": "Grade reports",
        "team": "platform",
        "systems": ["grading-api"],
        "severity": "refuse",
        "start": f"{start:%Y-%m-%dT%H:%M}",
        "end": f"{start + timedelta(hours=6):%Y-%m-%dT%H:%M}",
        "timezone": "Europe/London",
        "rrule": "",
        "exdates": "",
        **overrides,
    }


def deadline_post(**overrides) -> dict:
    return {
        "title": "Essay 2",
        "course": "DS501",
        "team": "curriculum",
        "cohort_size": "300",
        "due": f"{soon(6, 17):%Y-%m-%dT%H:%M}",
        "timezone": "UTC",
        "systems": ["grading-api"],
        **overrides,
    }


def test_blackout_management_is_for_administrators(alice, pat):
    assert client_for(alice).get("/blackouts/new/").status_code == 403
    assert client_for(pat).get("/blackouts/new/").status_code == 200


def test_everyone_signed_in_reads_the_blackout_list_without_change_links(alice, pat):
    blackout = builders.blackout(title="Results release", start=soon(9))

    html = client_for(alice).get("/blackouts/").content.decode()

    assert "Results release" in html
    assert f"/blackouts/{blackout.pk}/edit/" not in html and "New blackout" not in html
    assert f"/blackouts/{blackout.pk}/edit/" in client_for(pat).get("/blackouts/").content.decode()


def test_anyone_may_read_a_blackout_that_refused_them(alice):
    blackout = builders.blackout(title="Results release", start=soon(9))
    html = client_for(alice).get(f"/blackouts/{blackout.pk}/").content.decode()
    assert "Results release" in html and "Edit" not in html


def test_an_administrator_creates_edits_and_deletes_a_recurring_blackout(pat):
    client = client_for(pat)
    first = soon(5, 12)
    weekly = blackout_post(rrule="FREQ=WEEKLY;COUNT=4")
    weekly["exdates"] = f"{first + timedelta(days=7):%Y-%m-%d %H:%M}"
    weekly["timezone"] = "UTC"
    response = client.post("/blackouts/new/", weekly)
    blackout = Blackout.objects.get()
    assert response["Location"] == f"/blackouts/{blackout.pk}/"
    assert blackout.occurrences.count() == 3
    assert blackout.start.astimezone(UTC) == first
    edit = client.get(f"/blackouts/{blackout.pk}/edit/").content.decode()
    assert f"{first + timedelta(days=7):%Y-%m-%d %H:%M}" in edit
    client.post(f"/blackouts/{blackout.pk}/edit/", {**weekly, "severity": "flag"})
    blackout.refresh_from_db()
    assert blackout.severity == "flag"
    assert client.get(f"/blackouts/{blackout.pk}/delete/").status_code == 200
    client.post(f"/blackouts/{blackout.pk}/delete/")
    assert not Blackout.objects.exists()


def test_blackout_errors_are_shown_next_to_their_fields(pat):
    client = client_for(pat)
    html = client.post(
        "/blackouts/new/", blackout_post(end=blackout_post()["start"])
    ).content.decode()
    assert "The end must be after the start" in error_next_to(html, "end")
    html = client.post("/blackouts/new/", blackout_post(rrule="FREQ=SOMETIMES")).content.decode()
    assert "RRULE" in error_next_to(html, "rrule")
    bad = client.post("/blackouts/new/", blackout_post(rrule="FREQ=WEEKLY", exdates="next tuesday"))
    assert bad.status_code == 400
    assert "next tuesday" in error_next_to(bad.content.decode(), "exdates")
    assert 'value="Exam boards"' in bad.content.decode()
    assert not Blackout.objects.exists()


@pytest.mark.parametrize(
    "exdate, zone",
    [("9999-12-31 23:00", "America/Los_Angeles"), ("0001-01-01 00:00", "Asia/Tokyo")],
    ids=["past-2999", "before-1970"],
)
def test_a_blackout_exception_out_of_range_is_shown_next_to_exceptions(pat, exdate, zone):
    post = blackout_post(rrule="FREQ=WEEKLY;COUNT=10", timezone=zone, exdates=exdate)

    bad = client_for(pat).post("/blackouts/new/", post)

    assert bad.status_code == 400
    html = bad.content.decode()
    assert "between 1970 and 2999" in error_next_to(html, "exdates")
    assert exdate in html
    assert not Blackout.objects.exists()


def test_a_blackout_exception_that_is_no_occurrence_is_shown_next_to_exceptions(pat):
    # A day late: it was stored and skipped nothing, and the page said it was saved.
    first = soon(5, 12)
    typo = f"{first + timedelta(days=8):%Y-%m-%d %H:%M}"
    post = blackout_post(rrule="FREQ=WEEKLY;COUNT=4", timezone="UTC", exdates=typo)

    bad = client_for(pat).post("/blackouts/new/", post)

    assert bad.status_code == 400
    error = error_next_to(bad.content.decode(), "exdates")
    assert f"{typo} is not when an occurrence starts" in error
    assert f"{first + timedelta(days=7):%a %d %b %Y %H:%M}" in error
    assert not Blackout.objects.exists()


def test_a_blackout_exception_given_as_a_date_skips_that_days_occurrence(pat):
    # A date alone was read as midnight: it matched no occurrence and skipped nothing.
    first = soon(5, 12)
    post = blackout_post(
        rrule="FREQ=WEEKLY;COUNT=4", timezone="UTC", exdates=f"{first + timedelta(days=7):%Y-%m-%d}"
    )

    client_for(pat).post("/blackouts/new/", post)

    blackout = Blackout.objects.get()
    starts = list(blackout.occurrences.order_by("start").values_list("start", flat=True))
    assert starts == [first, first + timedelta(days=14), first + timedelta(days=21)]


def test_everyone_signed_in_reads_the_deadline_list_without_change_links(alice, carol):
    client_for(carol).post("/deadlines/new/", deadline_post())
    deadline = Deadline.objects.get()

    response = client_for(alice).get("/deadlines/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Essay 2" in html
    assert f"/deadlines/{deadline.pk}/edit/" not in html and "Publish a deadline" not in html


@pytest.mark.parametrize("path", ["/deadlines/new/", "/deadlines/upload/", "/deadlines/feeds/"])
def test_deadline_pages_are_for_curriculum_staff_and_administrators(path, alice, carol, pat):
    assert client_for(alice).get(path).status_code == 403
    assert client_for(carol).get(path).status_code == 200
    assert client_for(pat).get(path).status_code == 200


def test_curriculum_staff_publish_edit_and_withdraw(carol, alice):
    client = client_for(carol)
    response = client.post("/deadlines/new/", deadline_post())
    deadline = Deadline.objects.get()
    assert response["Location"] == f"/deadlines/{deadline.pk}/"
    assert "Essay 2" in client.get("/deadlines/").content.decode()
    assert client_for(alice).get(f"/deadlines/{deadline.pk}/").status_code == 200
    assert client_for(alice).get(f"/deadlines/{deadline.pk}/edit/").status_code == 403
    client.post(f"/deadlines/{deadline.pk}/edit/", deadline_post(cohort_size="900"))
    deadline.refresh_from_db()
    assert deadline.cohort_size == 900
    client.post(f"/deadlines/{deadline.pk}/withdraw/")
    deadline.refresh_from_db()
    assert deadline.withdrawn_at is not None


def test_deadline_errors_are_shown_next_to_their_fields(carol):
    response = client_for(carol).post("/deadlines/new/", deadline_post(cohort_size="", due="soon"))
    html = response.content.decode()
    assert response.status_code == 400
    assert "Enter a date and time" in error_next_to(html, "due")
    response = client_for(carol).post("/deadlines/new/", deadline_post(cohort_size=""))
    assert "cohort size" in error_next_to(response.content.decode(), "cohort_size")
    assert 'value="Essay 2"' in response.content.decode()


@pytest.mark.parametrize("path", ["/deadlines/new/", "/blackouts/new/"])
def test_a_title_of_invisible_characters_is_shown_as_blank_next_to_title(path, carol, pat):
    post = deadline_post if path.startswith("/deadlines") else blackout_post
    person = carol if path.startswith("/deadlines") else pat

    response = client_for(person).post(path, post(title="\u200b \u2060"))

    assert response.status_code == 400
    assert "a title" in error_next_to(response.content.decode(), "title")
    assert not Deadline.objects.exists() and not Blackout.objects.exists()


def test_uploads_publish_every_row_or_name_each_problem(carol):
    from django.core.files.uploadedfile import SimpleUploadedFile

    due = soon(8, 9)
    good = f"title,cohort_size,due\nLab 1,120,{due:%Y-%m-%dT%H:%M}Z\nLab 2,80,{due:%Y-%m-%d}\n"
    bad = "title,cohort_size,due\nLab 3,many,tomorrow\n"
    client = client_for(carol)
    form = {"team": "curriculum", "timezone": "UTC", "systems": ["grading-api"]}
    response = client.post(
        "/deadlines/upload/", {**form, "file": SimpleUploadedFile("labs.csv", good.encode())}
    )
    assert response.status_code == 302
    assert Deadline.objects.count() == 2
    refused = client.post(
        "/deadlines/upload/", {**form, "file": SimpleUploadedFile("labs.csv", bad.encode())}
    )
    html = refused.content.decode()
    assert refused.status_code == 400
    assert "no deadline was published" in error_next_to(html, "file")
    assert "row 2" in html
    assert Deadline.objects.count() == 2


def test_feeds_show_their_sync_state_and_errors(carol, settings):
    client = client_for(carol)
    bad = client.post(
        "/deadlines/feeds/new/",
        {
            "url": "ftp://lms",
            "format": "ics",
            "team": "curriculum",
            "cohort_size": "100",
            "interval": "60",
        },
    )
    assert "http" in error_next_to(bad.content.decode(), "url")
    response = client.post(
        "/deadlines/feeds/new/",
        {
            "url": "https://lms.example.org/cal.ics",
            "format": "ics",
            "team": "curriculum",
            "cohort_size": "100",
            "interval": "60",
            "enabled": "on",
        },
    )
    assert response.status_code == 302
    feed = DeadlineFeed.objects.get()
    DeadlineFeed.objects.filter(pk=feed.pk).update(
        last_error="The feed answered 503.", failure_count=2, failing_since=soon(0)
    )
    html = client.get("/deadlines/feeds/").content.decode()
    assert "Failing" in html and "The feed answered 503." in html
    assert client.get(f"/deadlines/feeds/{feed.pk}/edit/").status_code == 200
    client.post(f"/deadlines/feeds/{feed.pk}/delete/")
    assert not DeadlineFeed.objects.exists()


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/blackouts/new/", {**blackout_post(), "rrule": "FREQ=SECONDLY"}),
        ("/blackouts/new/", {**blackout_post(), "start": "", "timezone": "Mars/Base"}),
        ("/deadlines/new/", {**deadline_post(), "cohort_size": "-5", "team": "grading"}),
        (
            "/deadlines/feeds/new/",
            {"url": "http://127.0.0.1/x.ics", "cohort_size": "1", "interval": "1"},
        ),
        ("/deadlines/upload/", {"team": "curriculum", "timezone": "UTC"}),
    ],
)
def test_bad_input_never_gives_a_500(path, data, pat):
    assert client_for(pat).post(path, data).status_code == 400

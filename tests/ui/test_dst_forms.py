"""Booking and blackout forms with wall times a DST change skips or repeats.

Europe/London springs forward at 01:00 GMT on 28 March 2027 (01:00-02:00
does not exist) and falls back at 02:00 BST on 31 October 2027 (01:00-02:00
happens twice). The forms used to store a zero-length window (a 500 from the
start < end constraint) while the live panel said "01:30 - 01:30".
"""

from datetime import UTC, datetime

import pytest

from blackouts.models import Blackout
from scheduling.local_times import problem
from scheduling.models import MaintenanceJob
from tests.ui.conftest import client_for
from tests.ui.test_calendar_admin_pages import blackout_post
from tests.ui.test_pages import error_next_to, job_post

pytestmark = pytest.mark.django_db

GAP = {"start": "2027-03-28T01:30", "end": "2027-03-28T02:30", "timezone": "Europe/London"}
REPEATED = {"start": "2027-10-31T01:30", "end": "2027-10-31T03:00", "timezone": "Europe/London"}
GAP_WORDS = "01:30 on Sun 28 Mar 2027 does not exist in Europe/London"


def test_a_booking_in_the_spring_gap_is_a_field_error_naming_the_change(alice):
    response = client_for(alice).post("/jobs/new/", job_post(**GAP))

    assert response.status_code == 400
    error = error_next_to(response.content.decode(), "start")
    assert GAP_WORDS in error
    assert "at 01:00 GMT the clocks go forward to 02:00 BST" in error
    assert "Choose 00:59 or earlier, or 02:00 or later" in error
    assert not MaintenanceJob.objects.exists()


def test_a_blackout_in_the_spring_gap_is_a_field_error_not_a_500(pat):
    response = client_for(pat).post("/blackouts/new/", blackout_post(**GAP))

    assert response.status_code == 400
    assert GAP_WORDS in error_next_to(response.content.decode(), "start")
    assert not Blackout.objects.exists()


def test_the_live_panel_gives_the_same_error_for_the_gap(alice):
    answer = client_for(alice).get("/jobs/preview/", {**GAP, "recurrence": "none"})

    assert answer.status_code == 400
    [error] = answer.json()["errors"]["start"]
    assert GAP_WORDS in error["message"]


def test_a_repeated_autumn_time_offers_both_offsets_to_choose_from(alice):
    response = client_for(alice).post("/jobs/new/", job_post(**REPEATED))

    assert response.status_code == 400
    html = response.content.decode()
    error = error_next_to(html, "start")
    assert "01:30 on Sun 31 Oct 2027 happens twice in Europe/London" in error
    assert "01:30 BST (UTC+01:00), the first time" in error
    assert "01:30 GMT (UTC+00:00), the second time" in error
    assert 'name="start_fold" value="0"' in html and 'name="start_fold" value="1"' in html
    assert not MaintenanceJob.objects.exists()


def test_choosing_the_second_repeated_time_books_it(alice):
    response = client_for(alice).post(
        "/jobs/new/", job_post(**REPEATED, start_fold="1", action="draft")
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    job = MaintenanceJob.objects.get()
    assert job.start == datetime(2027, 10, 31, 1, 30, tzinfo=UTC)  # GMT
    assert job.end == datetime(2027, 10, 31, 3, 0, tzinfo=UTC)


def test_the_live_panel_agrees_once_a_repeated_time_is_chosen(alice):
    answer = client_for(alice).get(
        "/jobs/preview/", {**REPEATED, "start_fold": "0", "recurrence": "none"}
    )

    assert answer.status_code == 200, answer.json()
    assert answer.json()["start"] == "2027-10-31T01:30:00+01:00"


@pytest.mark.parametrize(
    ("wall", "zone"),
    [
        (datetime(2027, 3, 14, 2, 30), "America/New_York"),
        (datetime(2027, 10, 3, 2, 15), "Australia/Lord_Howe"),
    ],
)
def test_gaps_are_found_in_other_zones_too(wall, zone):
    found = problem(wall, zone)

    assert found is not None and found.kind == "gap"
    assert f"does not exist in {zone}" in found.message


def test_an_ordinary_time_has_no_problem():
    assert problem(datetime(2027, 7, 1, 1, 30), "Europe/London") is None

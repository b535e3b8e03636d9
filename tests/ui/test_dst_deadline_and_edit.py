"""The deadline form's `due` and a job's edit page with wall times a DST change skips or repeats.

Same transitions as test_dst_forms: London springs forward at 01:00 GMT on
28 March 2027 and falls back at 02:00 BST on 31 October 2027; Sydney falls
back at 03:00 AEDT on 4 April 2027.
"""

from datetime import UTC, datetime

import pytest

from deadlines.models import Deadline
from scheduling.models import MaintenanceJob
from tests.ui.conftest import client_for
from tests.ui.test_calendar_admin_pages import deadline_post
from tests.ui.test_pages import error_next_to, job_post

pytestmark = pytest.mark.django_db


def test_a_deadline_due_in_the_spring_gap_is_a_field_error_naming_the_change(carol):
    response = client_for(carol).post(
        "/deadlines/new/", deadline_post(due="2027-03-28T01:30", timezone="Europe/London")
    )

    assert response.status_code == 400
    error = error_next_to(response.content.decode(), "due")
    assert "01:30 on Sun 28 Mar 2027 does not exist in Europe/London" in error
    assert "Choose 00:59 or earlier, or 02:00 or later" in error
    assert not Deadline.objects.exists()


def test_a_deadline_due_at_a_repeated_southern_time_asks_which_one(carol):
    response = client_for(carol).post(
        "/deadlines/new/", deadline_post(due="2027-04-04T02:30", timezone="Australia/Sydney")
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert "02:30 on Sun 4 Apr 2027 happens twice in Australia/Sydney" in error_next_to(html, "due")
    assert 'name="due_fold" value="0"' in html and 'name="due_fold" value="1"' in html
    assert not Deadline.objects.exists()


def test_choosing_the_second_repeated_due_time_publishes_that_instant(carol):
    response = client_for(carol).post(
        "/deadlines/new/",
        deadline_post(due="2027-04-04T02:30", timezone="Australia/Sydney", due_fold="1"),
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert Deadline.objects.get().due == datetime(2027, 4, 3, 16, 30, tzinfo=UTC)  # AEST


def _book_second_repeated_time(alice) -> MaintenanceJob:
    client_for(alice).post(
        "/jobs/new/",
        job_post(
            start="2027-10-31T01:30",
            end="2027-10-31T03:00",
            timezone="Europe/London",
            start_fold="1",
            action="draft",
        ),
    )
    return MaintenanceJob.objects.get()


def test_the_edit_page_shows_which_repeated_time_a_job_starts_at(alice):
    job = _book_second_repeated_time(alice)

    html = client_for(alice).get(f"/jobs/{job.pk}/edit/").content.decode()

    assert 'name="start_fold" value="1"' in html
    assert "01:30 GMT (UTC+00:00), the second time" in html
    checked = html.split('name="start_fold" value="1"')[1].split(">")[0]
    assert "checked" in checked

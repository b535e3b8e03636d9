"""Wall times at the ends of the calendar, in zones far from UTC, are field errors.

31 December 9999 at 22:00 in America/Adak (UTC-10) is an instant in year
10000, and 1 January 0001 at 00:00 in Pacific/Kiritimati (UTC+14) one in
year 0: neither exists, and converting them was a 500 on the booking page,
its live preview and the blackout form.
"""

from datetime import UTC, datetime

import pytest

from blackouts.models import Blackout
from scheduling.models import MaintenanceJob
from tests import builders
from tests.ui.conftest import client_for
from tests.ui.test_calendar_admin_pages import blackout_post
from tests.ui.test_pages import error_next_to, job_post

pytestmark = pytest.mark.django_db

FAR = [
    {"start": "9999-12-31T22:00", "end": "9999-12-31T23:00", "timezone": "America/Adak"},
    {"start": "0001-01-01T00:00", "end": "0001-01-01T01:00", "timezone": "Pacific/Kiritimati"},
]


@pytest.mark.parametrize("window", FAR, ids=lambda w: w["timezone"])
def test_the_booking_preview_answers_400_for_a_time_past_the_calendar(alice, window):
    answer = client_for(alice).get("/jobs/preview/", {**window, "recurrence": "none"})

    assert answer.status_code == 400
    assert "start" in answer.json()["errors"]


@pytest.mark.parametrize("window", FAR, ids=lambda w: w["timezone"])
def test_a_booking_past_the_calendar_is_a_field_error_on_start(alice, window):
    response = client_for(alice).post("/jobs/new/", job_post(**window))

    assert response.status_code == 400
    assert "between 1970 and 2999" in error_next_to(response.content.decode(), "start")
    assert not MaintenanceJob.objects.exists()


@pytest.mark.parametrize("window", FAR, ids=lambda w: w["timezone"])
def test_a_blackout_past_the_calendar_is_a_field_error_on_start(pat, window):
    response = client_for(pat).post("/blackouts/new/", blackout_post(**window))

    assert response.status_code == 400
    assert "between 1970 and 2999" in error_next_to(response.content.decode(), "start")
    assert not Blackout.objects.exists()


@pytest.mark.parametrize(
    "start,end",
    [
        ("9999-12-31T23:00:00-05:00", "9999-12-31T23:30:00-05:00"),
        ("0001-01-01T00:30:00+05:00", "0001-01-01T01:00:00+05:00"),
    ],
    ids=["year-10000", "year-0"],
)
def test_an_edit_link_suggesting_a_time_past_the_calendar_opens_without_it(
    frozen_now, alice, org, start, end
):
    job = builders.job(
        by=alice, owner=org["infra"], title="Reindex", start=datetime(2030, 12, 10, 8, tzinfo=UTC)
    )

    response = client_for(alice).get(f"/jobs/{job.pk}/edit/", {"start": start, "end": end})

    assert response.status_code == 200
    assert 'value="2030-12-10T08:00"' in response.content.decode()

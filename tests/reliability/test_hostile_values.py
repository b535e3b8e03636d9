"""Low: hostile values are a 400 with a field message, on every path, never a 500.

Deeply nested JSON, wall-clock times in a DST gap, and the years 1 and 9999
go through one check (scheduling.instants) whether they come from the API,
the booking form and its preview, the deadline form, or a CSV/ICS upload.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from blackouts.models import Blackout
from deadlines.models import Deadline
from scheduling.models import MaintenanceJob
from tests import builders
from tests.personas import as_user
from tests.workflow import job_body

pytestmark = pytest.mark.django_db

# Europe/London skips from 01:00 to 02:00 on 30 March 2031.
GAP = "2031-03-30T01:30:00"
YEARS = ["0001-01-01T08:00", "9999-12-31T08:00"]


def signed_in(person) -> Client:
    client = Client()
    client.force_login(person)
    return client


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_deeply_nested_json_is_a_400(requester, depth):
    body = "[" * depth + "]" * depth

    answer = as_user(requester).generic(
        "POST", "/api/v1/jobs", body, content_type="application/json"
    )

    assert answer.status_code == 400
    assert answer.json()["code"] in {"parse_error", "invalid"}


def test_a_start_in_a_dst_gap_is_a_400_on_start(requester):
    answer = as_user(requester).post(
        "/api/v1/jobs",
        job_body(start=GAP, end="2031-03-30T03:00:00", timezone="Europe/London"),
        format="json",
    )

    assert answer.status_code == 400, answer.json()
    assert "does not exist in Europe/London" in answer.json()["errors"]["start"][0]
    assert not MaintenanceJob.objects.exists()


def test_a_booking_form_time_in_a_dst_gap_is_a_400_on_start(requester):
    answer = signed_in(requester).post(
        "/jobs/new/",
        {
            "title": "Gap",
            "team": "infra",
            "systems": ["grading-db"],
            "start": "2031-03-30T01:30",
            "end": "2031-03-30T03:00",
            "timezone": "Europe/London",
            "recurrence": "none",
            "impact": "degraded",
            "action": "draft",
        },
    )

    assert answer.status_code == 400
    assert "does not exist in Europe/London" in answer.content.decode()
    assert not MaintenanceJob.objects.exists()


def test_a_blackout_in_a_dst_gap_is_a_400_on_start(admin):
    answer = as_user(admin).post(
        "/api/v1/blackouts",
        {
            "title": "Gap",
            "team": "platform",
            "start": GAP,
            "end": "2031-03-30T04:00:00",
            "timezone": "Europe/London",
        },
        format="json",
    )

    assert answer.status_code == 400, answer.json()
    assert "start" in answer.json()["errors"]


@pytest.mark.parametrize("start", YEARS)
def test_the_booking_form_refuses_years_the_api_refuses(requester, start):
    end = start.replace("T08:", "T09:")
    form = signed_in(requester).post(
        "/jobs/new/",
        {
            "title": "Far",
            "team": "infra",
            "systems": ["grading-db"],
            "start": start,
            "end": end,
            "timezone": "Europe/London",
            "recurrence": "none",
            "impact": "degraded",
            "action": "draft",
        },
    )
    api = as_user(requester).post(
        "/api/v1/jobs", job_body(start=start, end=end, timezone="Europe/London"), format="json"
    )

    assert (form.status_code, api.status_code) == (400, 400)
    assert "between 1970 and 2999" in form.content.decode()
    assert not MaintenanceJob.objects.exists()


@pytest.mark.parametrize("start", YEARS)
def test_the_booking_preview_refuses_years_1_and_9999(requester, start):
    answer = signed_in(requester).get(
        "/jobs/preview/",
        {
            "start": start,
            "end": start.replace("T08:", "T09:"),
            "timezone": "Europe/London",
            "recurrence": "weekly",
            "count": 4,
        },
    )

    assert answer.status_code == 400
    assert "between 1970 and 2999" in answer.content.decode()


@pytest.mark.parametrize("due", YEARS)
def test_the_deadline_form_refuses_years_1_and_9999(curriculum_staff, due):
    answer = signed_in(curriculum_staff).post(
        "/deadlines/new/",
        {
            "title": "Far",
            "team": "curriculum",
            "cohort_size": 2000,
            "due": due,
            "timezone": "Europe/London",
            "systems": ["grading-api"],
        },
    )

    assert answer.status_code == 400
    assert "between 1970 and 2999" in answer.content.decode()
    assert not Deadline.objects.exists()


@pytest.mark.parametrize("due", ["0001-01-01T08:00:00Z", "9999-12-31T23:00:00Z"])
def test_a_csv_upload_with_years_1_or_9999_is_a_400_naming_the_row(curriculum_staff, due):
    csv = f"title,cohort_size,due\nFar,2000,{due}\n".encode()

    answer = upload(curriculum_staff, "d.csv", csv)

    assert answer.status_code == 400, answer.content
    assert not Deadline.objects.exists()


@pytest.mark.parametrize("stamp", ["00010101T080000Z", "99991231T230000Z"])
def test_an_ics_upload_with_years_1_or_9999_is_a_400(curriculum_staff, stamp):
    ics = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:far\r\n"
        f"SUMMARY:Far\r\nDTSTART:{stamp}\r\nDTEND:{stamp}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()

    answer = upload(curriculum_staff, "d.ics", ics)

    assert answer.status_code == 400, answer.content
    assert not Deadline.objects.exists()


def upload(person, name, content):
    return as_user(person).post(
        "/api/v1/deadlines/upload",
        {"file": SimpleUploadedFile(name, content), "team": "curriculum", "cohort_size": 10},
        format="multipart",
    )


# Wall times whose UTC instant leaves datetime's range: late on 31 Dec 9999
# west of Greenwich (year 10000 in UTC), early on 1 Jan 1 east of it (year 0).
ACROSS_THE_EDGE = [
    ("9999-12-31T22:00", "9999-12-31T23:00", "America/Los_Angeles"),
    ("0001-01-01T00:30", "0001-01-01T01:00", "Asia/Tokyo"),
]


def window_form(start, end, zone, **extra):
    return {
        "title": "Edge",
        "systems": ["grading-db"],
        "start": start,
        "end": end,
        "timezone": zone,
        **extra,
    }


@pytest.mark.parametrize(("start", "end", "zone"), ACROSS_THE_EDGE)
def test_the_booking_form_refuses_a_time_past_the_edge_of_the_calendar_in_utc(
    requester, start, end, zone
):
    booking = window_form(
        start, end, zone, team="infra", recurrence="none", impact="degraded", action="draft"
    )

    answer = signed_in(requester).post("/jobs/new/", booking)

    assert answer.status_code == 400
    assert "between 1970 and 2999" in answer.content.decode()
    assert not MaintenanceJob.objects.exists()


@pytest.mark.parametrize(("start", "end", "zone"), ACROSS_THE_EDGE)
def test_the_job_edit_form_refuses_a_time_past_the_edge_of_the_calendar_in_utc(
    requester, start, end, zone
):
    job = builders.job(by=requester)
    booking = window_form(
        start, end, zone, team="infra", recurrence="none", impact="degraded", action="draft"
    )

    answer = signed_in(requester).post(f"/jobs/{job.pk}/edit/", booking)

    assert answer.status_code == 400
    assert "between 1970 and 2999" in answer.content.decode()


@pytest.mark.parametrize(("start", "end", "zone"), ACROSS_THE_EDGE)
def test_the_booking_preview_refuses_a_time_past_the_edge_of_the_calendar_in_utc(
    requester, start, end, zone
):
    query = {"start": start, "end": end, "timezone": zone, "recurrence": "weekly", "count": 3}

    answer = signed_in(requester).get("/jobs/preview/", query)

    assert answer.status_code == 400
    assert "between 1970 and 2999" in answer.content.decode()


@pytest.mark.parametrize(("start", "end", "zone"), ACROSS_THE_EDGE)
def test_the_blackout_form_refuses_a_time_past_the_edge_of_the_calendar_in_utc(
    admin, start, end, zone
):
    blackout = window_form(start, end, zone, team="platform", severity="refuse")

    answer = signed_in(admin).post("/blackouts/new/", blackout)

    assert answer.status_code == 400
    assert "between 1970 and 2999" in answer.content.decode()
    assert not Blackout.objects.exists()


@pytest.mark.parametrize(("due", "_", "zone"), ACROSS_THE_EDGE)
def test_the_deadline_form_refuses_a_due_time_past_the_edge_of_the_calendar_in_utc(
    curriculum_staff, due, _, zone
):
    deadline = {
        "title": "Edge",
        "team": "curriculum",
        "cohort_size": 2000,
        "due": due,
        "timezone": zone,
        "systems": ["grading-api"],
    }

    answer = signed_in(curriculum_staff).post("/deadlines/new/", deadline)

    assert answer.status_code == 400
    assert "between 1970 and 2999" in answer.content.decode()
    assert not Deadline.objects.exists()


@pytest.mark.parametrize(
    "timing",
    [
        "DTSTART;VALUE=DATE:99991231",  # all day: due when 31 Dec 9999 ends
        "DTSTART:99991231T220000Z\r\nDURATION:PT3H",
        "DTSTART:20301210T080000Z\r\nDURATION:P999999999D",
    ],
)
def test_an_ics_upload_whose_due_time_leaves_the_calendar_is_a_400(curriculum_staff, timing):
    ics = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:far\r\n"
        f"SUMMARY:Far\r\n{timing}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()

    answer = upload(curriculum_staff, "d.ics", ics)

    assert answer.status_code == 400, answer.content
    assert not Deadline.objects.exists()

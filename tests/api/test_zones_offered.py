"""Only the zones the pages offer are accepted, by the API, the forms and uploads."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from blackouts.models import Blackout
from deadlines.models import Deadline
from scheduling.models import MaintenanceJob
from scheduling.zones import zone_choices, zone_names
from tests.api.test_validation import assert_invalid
from tests.personas import as_user
from tests.workflow import job_body

pytestmark = pytest.mark.django_db

LEGACY = ["US/Eastern", "Etc/GMT+5", "EST5EDT", "posix/Europe/London", "GMT"]


def test_the_pickers_offer_the_accepted_list_and_no_legacy_alias():
    offered = [name for name, _ in zone_choices()]

    assert offered == list(zone_names())
    assert {"Europe/London", "America/New_York", "Australia/Lord_Howe", "UTC"} <= set(offered)
    assert not set(LEGACY) & set(offered)


@pytest.mark.parametrize("name", LEGACY)
def test_a_job_in_a_legacy_alias_zone_is_a_400_on_timezone(requester, name):
    answer = as_user(requester).post("/api/v1/jobs", job_body(timezone=name), format="json")

    body = assert_invalid(answer, "timezone")
    assert "Europe/London" in body["errors"]["timezone"][0]
    assert not MaintenanceJob.objects.exists()


def test_a_blackout_in_a_legacy_alias_zone_is_a_400_on_timezone(admin):
    body = {
        "title": "Exams",
        "team": "platform",
        "start": "2030-12-10T09:00:00",
        "end": "2030-12-10T17:00:00",
        "timezone": "US/Eastern",
    }

    answer = as_user(admin).post("/api/v1/blackouts", body, format="json")

    assert answer.status_code == 400, answer.content
    assert "timezone" in answer.json()["errors"]
    assert not Blackout.objects.exists()


def test_a_system_window_in_a_legacy_alias_zone_is_a_400(admin):
    window = {
        "rrule": "FREQ=WEEKLY;BYDAY=SU",
        "start_time": "02:00",
        "duration": "PT4H",
        "timezone": "Etc/GMT+5",
    }
    body = {"slug": "lab-db", "name": "Lab DB", "team": "infra", "maintenance_window": window}

    answer = as_user(admin).post("/api/v1/systems", body, format="json")

    assert answer.status_code == 400, answer.content
    assert "Etc/GMT+5" in str(answer.json()["errors"])


def test_an_uploaded_row_in_a_legacy_alias_zone_names_the_row(clock, curriculum_staff):
    client = APIClient()
    client.force_authenticate(curriculum_staff)
    csv = "title,due,cohort_size,timezone\nEssay,2030-12-12T12:00,100,US/Pacific\n"

    answer = client.post(
        "/api/v1/deadlines/upload",
        {"file": SimpleUploadedFile("d.csv", csv.encode()), "team": "curriculum"},
        format="multipart",
    )

    assert answer.status_code == 400, answer.content
    assert list(answer.json()["errors"]) == ["row 2.timezone"]
    assert not Deadline.objects.exists()


def test_a_job_whose_local_start_is_in_the_spring_gap_is_a_400_not_a_500(requester):
    # Both times in London: 01:30 does not exist (the clocks skip from 01:00 to
    # 02:00), so the start is refused by name (scheduling.instants).
    body = job_body(start="2027-03-28T01:30", end="2027-03-28T02:30", timezone="Europe/London")

    answer = as_user(requester).post("/api/v1/jobs", body, format="json")

    assert_invalid(answer, "start")
    assert not MaintenanceJob.objects.exists()

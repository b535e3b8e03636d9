"""Times without an offset are wall times in the object's zone: the API refuses one a DST
change skips or repeats, with the same words as the forms (London springs forward at
01:00 GMT on 28 March 2031 and falls back at 02:00 BST on 26 October 2031)."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from blackouts.models import Blackout
from deadlines.models import Deadline
from scheduling.instants import instant_problem
from scheduling.models import MaintenanceJob
from tests.personas import as_user
from tests.workflow import job_body

pytestmark = pytest.mark.django_db

GAP = {"start": "2031-03-30T01:30:00", "end": "2031-03-30T02:30:00", "timezone": "Europe/London"}
GAP_WORDS = "01:30 on Sun 30 Mar 2031 does not exist in Europe/London"


def _field_messages(answer, field: str) -> str:
    return " ".join(str(item) for item in answer.json()["errors"][field])


def test_a_job_in_the_spring_gap_is_a_400_naming_the_change(requester):
    answer = as_user(requester).post("/api/v1/jobs", job_body(**GAP), format="json")

    assert answer.status_code == 400, answer.content
    assert GAP_WORDS in _field_messages(answer, "start")
    assert not MaintenanceJob.objects.exists()


def test_a_blackout_in_the_spring_gap_is_a_400_naming_the_change(admin):
    body = {"title": "Exam boards", "team": "platform", "severity": "refuse", **GAP}

    answer = as_user(admin).post("/api/v1/blackouts", body, format="json")

    assert answer.status_code == 400, answer.content
    assert GAP_WORDS in _field_messages(answer, "start")
    assert not Blackout.objects.exists()


def test_a_deadline_due_at_a_repeated_time_asks_for_an_offset(curriculum_staff):
    body = {
        "title": "Essay 2",
        "team": "curriculum",
        "cohort_size": 300,
        "due": "2031-10-26T01:30:00",
        "timezone": "Europe/London",
    }

    answer = as_user(curriculum_staff).post("/api/v1/deadlines", body, format="json")

    assert answer.status_code == 400, answer.content
    message = _field_messages(answer, "due")
    assert "01:30 on Sun 26 Oct 2031 happens twice in Europe/London" in message
    assert "+01:00" in message
    assert not Deadline.objects.exists()


def test_the_services_word_a_gap_like_the_forms():
    london = ZoneInfo("Europe/London")

    message = instant_problem(datetime(2031, 3, 30, 1, 30, tzinfo=london))

    assert message is not None
    assert message.startswith(GAP_WORDS)
    assert "at 01:00 GMT the clocks go forward to 02:00 BST" in message


# --- an update without `timezone` keeps the object's zone --------------------


def test_a_job_put_without_a_zone_reads_its_times_in_the_jobs_zone(requester):
    client = as_user(requester)
    booked = client.post(
        "/api/v1/jobs",
        job_body(
            timezone="America/New_York", start="2030-12-10T08:00:00", end="2030-12-10T12:00:00"
        ),
        format="json",
    ).json()

    answer = client.put(
        f"/api/v1/jobs/{booked['id']}",
        job_body(start="2030-12-10T09:00:00", end="2030-12-10T12:00:00"),
        format="json",
    )

    assert answer.status_code == 200, answer.content
    assert (answer.json()["start"], answer.json()["timezone"]) == (
        "2030-12-10T14:00:00Z",
        "America/New_York",
    )


def test_a_blackout_put_without_a_zone_reads_its_times_in_the_blackouts_zone(admin):
    client = as_user(admin)
    body = {"title": "Exam boards", "team": "platform", "severity": "refuse"}
    created = client.post(
        "/api/v1/blackouts",
        {
            **body,
            "start": "2030-12-10T08:00:00",
            "end": "2030-12-10T12:00:00",
            "timezone": "America/New_York",
        },
        format="json",
    ).json()

    answer = client.put(
        f"/api/v1/blackouts/{created['id']}",
        {**body, "start": "2030-12-10T09:00:00", "end": "2030-12-10T12:00:00"},
        format="json",
    )

    assert answer.status_code == 200, answer.content
    assert (answer.json()["start"], answer.json()["timezone"]) == (
        "2030-12-10T14:00:00Z",
        "America/New_York",
    )


def test_a_blackout_created_without_a_zone_is_in_utc(admin):
    body = {"title": "Exam boards", "team": "platform", "severity": "refuse"}

    answer = as_user(admin).post(
        "/api/v1/blackouts",
        {**body, "start": "2030-12-10T08:00:00", "end": "2030-12-10T12:00:00"},
        format="json",
    )

    assert answer.status_code == 201, answer.content
    assert (answer.json()["start"], answer.json()["timezone"]) == ("2030-12-10T08:00:00Z", "UTC")

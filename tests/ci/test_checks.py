"""POST /api/v1/checks: preview a window (decision, findings, next clear window).

The clock starts at 2030-12-01 09:00 UTC (tests.personas.clock).
"""

from datetime import datetime

import pytest

from scheduling.models import MaintenanceJob
from scheduling.services.calendar import calendar_change_record
from scheduling.services.freeze import freeze_set
from scheduling.timeline.services import timeline_refresh_job
from tests import builders
from tests.builders import at

pytestmark = pytest.mark.django_db

FINDING_FIELDS = {"kind", "severity", "start", "end", "systems", "title", "message"}


def body(**overrides):
    return {
        "systems": ["grading-db"],
        "start": "2030-12-10T08:00:00Z",
        "end": "2030-12-10T12:00:00Z",
        **overrides,
    }


def check(client, **overrides):
    response = client.post("/api/v1/checks", body(**overrides), format="json")
    assert response.status_code == 200, response.json()
    return response.json()


def test_a_clear_window_is_its_own_next_clear_window(ci, clock):
    answer = check(ci)

    assert answer == {
        "decision": "clear",
        "findings": [],
        "impacted_systems": ["grading-api", "grading-db", "submissions-web"],
        "next_clear": {"start": "2030-12-10T08:00:00+00:00", "end": "2030-12-10T12:00:00+00:00"},
    }


def test_a_window_in_a_deadline_peak_is_refused_with_its_findings(ci, clock):
    builders.deadline(due=at(11, 23, 59), cohort_size=2000, systems=["grading-api"])

    answer = check(ci)

    assert answer["decision"] == "refuse"
    [finding] = answer["findings"]
    assert set(finding) >= FINDING_FIELDS
    assert (finding["kind"], finding["severity"]) == ("deadline", "refuse")
    assert finding["systems"] == ["grading-api"]
    assert finding["title"].startswith("Project 3")
    assert "2,000 students" in finding["message"]
    assert (finding["start"], finding["end"]) == (
        "2030-12-10T08:00:00+00:00",
        "2030-12-10T12:00:00+00:00",
    )


def test_the_next_clear_window_has_the_same_length_and_is_itself_clear(ci, clock):
    builders.deadline(due=at(11, 23, 59), cohort_size=2000, systems=["grading-api"])
    builders.blackout(systems=["grading-db"], start=at(12, 7), end=at(12, 20))

    answer = check(ci)
    slot = answer["next_clear"]
    again = check(ci, start=slot["start"], end=slot["end"])

    start, end = datetime.fromisoformat(slot["start"]), datetime.fromisoformat(slot["end"])
    assert end - start == at(10, 12) - at(10, 8)
    assert start >= at(12, 20)
    assert again["decision"] == "clear"
    assert again["findings"] == []


def test_degraded_work_is_only_flagged_by_the_same_peak(ci, clock):
    builders.deadline(due=at(11, 23, 59), cohort_size=2000, systems=["grading-api"])

    answer = check(ci, impact="degraded")

    assert answer["decision"] == "flag"
    assert [f["severity"] for f in answer["findings"]] == ["flag"]


def test_under_a_freeze_there_is_no_next_clear_window(ci, admin, clock):
    freeze_set(active=True, reason="exam week", by=admin)

    answer = check(ci)

    assert answer["decision"] == "refuse"
    assert [f["kind"] for f in answer["findings"]] == ["freeze"]
    assert answer["next_clear"] is None


def test_checks_answer_with_and_without_a_trailing_slash(ci, clock):
    with_slash = ci.post("/api/v1/checks/", body(), format="json")
    without = ci.post("/api/v1/checks", body(), format="json")

    assert (with_slash.status_code, without.status_code) == (200, 200)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"end": "2030-12-10T07:00:00Z"}, "end"),
        ({"end": "2030-12-10T08:00:00Z"}, "end"),
        ({"start": "2030-12-10T08:00:00"}, "start"),
        ({"end": "2030-12-10T12:00:00"}, "end"),
        ({"start": "next tuesday"}, "start"),
        ({"systems": ["grading-db", "nope"]}, "systems"),
        ({"systems": []}, "systems"),
        ({"systems": "grading-db"}, "systems"),
        ({"end": "2031-01-10T08:00:01Z"}, "end"),
        ({"start": "0001-01-01T08:00:00Z"}, "start"),
        ({"impact": "catastrophic"}, "impact"),
    ],
)
def test_bad_input_is_a_400_with_a_message_on_its_field(ci, org, overrides, field):
    response = ci.post("/api/v1/checks", body(**overrides), format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert list(response.json()["errors"]) == [field]


def test_a_window_of_exactly_31_days_may_be_checked(ci, clock):
    answer = check(ci, end="2031-01-10T08:00:00Z")

    assert answer["decision"] == "clear"


def test_a_missing_body_names_every_missing_field(ci, org):
    response = ci.post("/api/v1/checks", {}, format="json")

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"systems", "start", "end"}


def test_get_is_not_allowed(ci, org):
    response = ci.get("/api/v1/checks")

    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_a_job_being_moved_does_not_collide_with_itself(ci, clock):
    job = builders.job(systems=["grading-db"], start=at(10, 8))
    MaintenanceJob.objects.filter(pk=job.pk).update(status="approved")
    # Set past the services, so the stored timeline is told as they would tell it.
    timeline_refresh_job(job_id=job.pk)
    calendar_change_record(reason="test: approved")
    body = {
        "systems": ["grading-db"],
        "start": "2030-12-10T09:00:00Z",
        "end": "2030-12-10T10:00:00Z",
    }

    assert ci.post("/api/v1/checks", body, format="json").json()["decision"] == "refuse"
    moved = ci.post("/api/v1/checks", {**body, "exclude_job": job.pk}, format="json").json()
    assert moved["decision"] == "clear"

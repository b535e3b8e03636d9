"""What schemathesis found, pinned down as fast tests that run on both databases.

Each was a 500 or an answer outside the schema; the fix is where it arose.
"""

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from scheduling.models import MaintenanceJob
from tests import builders
from tests.builders import at
from tests.personas import as_user
from tests.workflow import job_body

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def test_a_nul_character_in_a_slug_is_a_400_not_a_500(requester):
    """PostgreSQL cannot hold NUL in text: SlugRelatedField's lookup raised DataError."""
    job = builders.job(by=requester)

    answer = as_user(requester).patch(
        f"/api/v1/jobs/{job.pk}", {"systems": ["grading-db\x00"]}, format="json"
    )

    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid"


@pytest.mark.parametrize("offset", ["-22:27", "+23:59"])
def test_an_offset_beyond_15_59_is_the_same_instant_in_utc(requester, offset):
    """PostgreSQL takes UTC offsets up to +-15:59 only: saving or filtering was a 500."""
    client = as_user(requester)

    booked = client.post(
        "/api/v1/jobs",
        job_body(start=f"2030-12-10T08:00:00{offset}", end=f"2030-12-10T12:00:00{offset}"),
        format="json",
    )
    listed = client.get("/api/v1/jobs", {"before": f"2030-12-31T00:00:00{offset}"})

    assert booked.status_code == 201, booked.json()
    job = MaintenanceJob.objects.get(pk=booked.json()["id"])
    assert job.start.isoformat() == booked.json()["start"].replace("Z", "+00:00")
    assert listed.status_code == 200
    assert [j["id"] for j in listed.json()["results"]] == [job.pk]


def test_errors_inside_a_list_are_a_flat_list_of_sentences(requester):
    """The schema promises {field: [string]}; DRF nested a list item's errors by index."""
    answer = as_user(requester).post(
        "/api/v1/checks",
        {"systems": [""], "start": at(10, 8).isoformat(), "end": at(10, 9).isoformat()},
        format="json",
    )

    assert answer.status_code == 400
    assert answer.json()["errors"] == {"systems": ["item 1: This field may not be blank."]}


def test_deleting_a_team_still_in_use_is_a_409(admin, requester):
    """Team rows are PROTECTed by systems, jobs, deadlines: ProtectedError was a 500."""
    builders.job(by=requester)

    answer = as_user(admin).delete("/api/v1/teams/infra")

    assert answer.status_code == 409
    assert answer.json()["code"] == "in_use"
    assert "maintenance jobs" in answer.json()["message"]


def test_the_freeze_needs_active_and_answers_options(admin):
    """PUT {} was a KeyError; OPTIONS failed DRF's get_object assertion. Both 500s."""
    client = as_user(admin)

    assert client.put("/api/v1/freeze", {}, format="json").json()["errors"] == {
        "active": ["This field is required."]
    }
    assert client.options("/api/v1/freeze").status_code == 200


def test_a_path_no_view_matches_is_a_json_404():
    answer = APIClient().get("/api/v1/jobs/abc/gate")

    assert answer.status_code == 404
    assert answer.json() == {"code": "not_found", "message": "Not found."}


def test_the_schema_promises_what_the_answers_hold(schema):
    """A listed API token has no `token`; nobody `by` before a freeze is switched; a
    maintenance window starts at HH:MM; the job lifecycle documents its 409s."""
    components = schema["components"]["schemas"]
    assert "token" not in components["ApiToken"]["properties"]
    assert "token" in components["CreatedApiToken"]["required"]
    assert components["Freeze"]["properties"]["by"].get("nullable") or {"type": "null"} in (
        components["Freeze"]["properties"]["by"].get("anyOf", [])
    )
    start_time = components["MaintenanceWindow"]["properties"]["start_time"]
    assert "format" not in start_time and start_time["pattern"]
    for path in ("/api/v1/jobs/{id}/", "/api/v1/jobs/{id}/cancel/", "/api/v1/jobs/{id}/done/"):
        operations = schema["paths"][path]
        # An administrator's DELETE has no state to conflict with (403 or 204).
        changing = [m for m in operations if m not in ("get", "delete")]
        assert all("409" in operations[m]["responses"] for m in changing), path

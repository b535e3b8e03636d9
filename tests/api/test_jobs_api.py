"""/api/v1/jobs: what a booking looks like, lists with filters and pages, paths."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from scheduling.api.pagination import Pages
from scheduling.models import MaintenanceJob
from scheduling.services.submission import maintenance_job_submit
from tests import builders
from tests.builders import at
from tests.personas import as_user
from tests.workflow import approved_job, book, job_body

pytestmark = pytest.mark.django_db

MAX_PAGE = Pages.max_limit


def ids(response) -> list[int]:
    assert response.status_code == 200, response.json()
    return [job["id"] for job in response.json()["results"]]


# --- one job ------------------------------------------------------------------


def test_a_booking_answers_with_the_fields_of_the_design(requester):
    job = book(as_user(requester), description="Rebuild indexes.")

    assert set(job) >= {
        "id",
        "title",
        "description",
        "team",
        "systems",
        "start",
        "end",
        "timezone",
        "rrule",
        "impact",
        "emergency",
        "justification",
        "status",
        "decision",
        "findings",
        "evaluated_at",
        "reviews",
        "history",
    }
    assert (job["team"], job["systems"], job["timezone"], job["rrule"]) == (
        "infra",
        ["grading-db"],
        "UTC",
        "",
    )


def test_times_without_an_offset_are_read_in_the_jobs_zone(requester):
    job = book(
        as_user(requester),
        start="2030-12-10T08:00:00",
        end="2030-12-10T12:00:00",
        timezone="America/New_York",
    )

    stored = as_user(requester).get(f"/api/v1/jobs/{job['id']}").json()
    assert (stored["start"], stored["end"]) == ("2030-12-10T13:00:00Z", "2030-12-10T17:00:00Z")


def test_a_recurring_job_books_each_occurrence_in_its_zone(requester):
    job = book(
        as_user(requester),
        start="2030-12-10T08:00:00",
        end="2030-12-10T09:00:00",
        timezone="Europe/London",
        rrule="FREQ=MONTHLY;COUNT=5",
    )

    stored = MaintenanceJob.objects.get(pk=job["id"])
    starts = [o.start.isoformat() for o in stored.occurrences.order_by("start")]
    # London leaves GMT for BST on 2031-03-30: 08:00 local is 07:00 UTC after it.
    assert starts[2:4] == ["2031-02-10T08:00:00+00:00", "2031-03-10T08:00:00+00:00"]
    assert starts[4] == "2031-04-10T07:00:00+00:00"


def test_an_unknown_job_is_a_404_in_json(requester):
    answer = as_user(requester).get("/api/v1/jobs/999999")

    assert answer.status_code == 404
    assert answer.json()["code"] == "not_found"


def test_signing_in_is_required(org):
    answer = APIClient().get("/api/v1/jobs")

    assert answer.status_code in (401, 403)
    assert answer.json()["code"] == "not_authenticated"


# --- lists, filters, pages ------------------------------------------------------


@pytest.fixture
def calendar(requester, reviewer, org):
    """Three jobs: infra's approved reindex on grading-db (10 Dec), infra's draft
    backup on reports-db (20 Dec), grading's pending deploy on grading-api and
    reports-db (15 Dec), which infra reviews."""
    reindex = approved_job(requester=requester, reviewer=reviewer, title="Reindex")
    backup = builders.job(by=requester, systems=["reports-db"], start=at(20, 8), title="Backup")
    deploy = builders.job(
        by=reviewer,
        owner=org["grading"],
        systems=["grading-api", "reports-db"],
        start=at(15, 8),
        title="Deploy",
    )
    maintenance_job_submit(job_id=deploy.pk, by=reviewer)
    return {"reindex": reindex.pk, "backup": backup.pk, "deploy": deploy.pk}


def test_the_list_shows_every_job_by_start(requester, calendar):
    listed = as_user(requester).get("/api/v1/jobs")

    assert ids(listed) == [calendar["reindex"], calendar["deploy"], calendar["backup"]]
    assert listed.json()["count"] == 3


def test_jobs_filter_by_an_impacted_system(requester, calendar):
    # The reindex books grading-db, on which grading-api depends.
    on_api = as_user(requester).get("/api/v1/jobs", {"system": "grading-api"})

    assert ids(on_api) == [calendar["reindex"], calendar["deploy"]]


def test_jobs_filter_by_team(requester, calendar):
    assert ids(as_user(requester).get("/api/v1/jobs", {"team": "grading"})) == [calendar["deploy"]]


def test_jobs_filter_by_one_or_more_statuses(requester, calendar):
    client = as_user(requester)

    assert ids(client.get("/api/v1/jobs?status=approved")) == [calendar["reindex"]]
    assert ids(client.get("/api/v1/jobs?status=approved&status=draft")) == [
        calendar["reindex"],
        calendar["backup"],
    ]


def test_jobs_filter_by_time_range(requester, calendar):
    client = as_user(requester)

    after = client.get("/api/v1/jobs", {"after": "2030-12-15T10:00:00Z"})
    before = client.get("/api/v1/jobs", {"before": "2030-12-15T08:00:00Z"})
    between = client.get(
        "/api/v1/jobs", {"after": "2030-12-11T00:00:00Z", "before": "2030-12-16T00:00:00Z"}
    )

    assert ids(after) == [calendar["deploy"], calendar["backup"]]
    assert ids(before) == [calendar["reindex"]]
    assert ids(between) == [calendar["deploy"]]


def test_a_recurring_job_is_listed_once_in_a_range_of_several_occurrences(requester):
    job = builders.job(by=requester, rrule="FREQ=DAILY;COUNT=5")

    listed = as_user(requester).get(
        "/api/v1/jobs", {"after": "2030-12-09T00:00:00Z", "before": "2030-12-31T00:00:00Z"}
    )

    assert ids(listed) == [job.pk]


def test_a_bad_filter_value_is_a_400_not_a_500(requester, calendar):
    client = as_user(requester)

    for query in ({"status": "sleeping"}, {"after": "next tuesday"}):
        answer = client.get("/api/v1/jobs", query)
        assert answer.status_code == 400, query
        assert list(answer.json()["errors"]) == list(query)


def test_the_list_pages_with_limit_and_offset(requester, calendar):
    page = as_user(requester).get("/api/v1/jobs", {"limit": 1, "offset": 1})

    assert ids(page) == [calendar["deploy"]]
    assert page.json()["count"] == 3
    assert "offset=2" in page.json()["next"]
    assert page.json()["previous"]


def test_listing_jobs_costs_the_same_queries_for_one_job_or_many(requester, reviewer):
    client = as_user(requester)
    approved_job(requester=requester, reviewer=reviewer)
    with CaptureQueriesContext(connection) as one:
        client.get("/api/v1/jobs")
    for day in (12, 13, 14, 15):
        approved_job(requester=requester, reviewer=reviewer, start=at(day, 8))

    with CaptureQueriesContext(connection) as five:
        listed = client.get("/api/v1/jobs")

    assert listed.json()["count"] == 5
    assert len(five) == len(one)


# --- paths --------------------------------------------------------------------


@pytest.mark.parametrize("slash", ["", "/"])
def test_paths_answer_with_and_without_a_trailing_slash(requester, reviewer, admin, slash):
    alice = as_user(requester)
    created = alice.post(f"/api/v1/jobs{slash}", job_body(), format="json")
    job_id = created.json()["id"]

    submitted = alice.post(f"/api/v1/jobs/{job_id}/submit{slash}")
    approved = as_user(reviewer).post(f"/api/v1/jobs/{job_id}/approve{slash}", {"team": "grading"})

    assert created.status_code == 201
    assert submitted.status_code == 200
    assert approved.json()["status"] == "approved"
    for path in ("jobs", f"jobs/{job_id}", "teams", "systems", "blackouts", "deadlines", "freeze"):
        assert alice.get(f"/api/v1/{path}{slash}").status_code == 200, path


@pytest.mark.parametrize("path", ["jobs", "teams", "systems", "api-tokens"])
def test_a_limit_too_large_for_the_database_is_capped_not_a_500(requester, calendar, path):
    page = as_user(requester).get(f"/api/v1/{path}", {"limit": "99999999999999999999", "offset": 1})

    assert page.status_code == 200, page.content
    assert f"limit={MAX_PAGE}" in page.json()["previous"]


@pytest.mark.parametrize("offset", ["99999999999999999999", "abc", "-5", "²"])
def test_an_offset_the_database_cannot_take_answers_a_page_not_a_500(requester, calendar, offset):
    page = as_user(requester).get("/api/v1/jobs", {"offset": offset})

    assert page.status_code == 200, page.content
    assert page.json()["count"] == 3

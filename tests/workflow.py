"""Shortcuts for the workflow tests: a job's API body, and jobs already in a status.

Setting a job up goes through the services (the way the API would); the test
then acts and asserts through the API.
"""

from typing import Any

from rest_framework.test import APIClient

from scheduling.models import MaintenanceJob
from scheduling.services.reviews import maintenance_job_review
from scheduling.services.submission import maintenance_job_submit
from tests import builders
from tests.builders import at


def job_body(**overrides: Any) -> dict[str, Any]:
    """An exclusive-lock job on grading-db, 2030-12-10 08:00-12:00 UTC, for infra."""
    return {
        "title": "Reindex the grading tables",
        "team": "infra",
        "systems": ["grading-db"],
        "start": "2030-12-10T08:00:00Z",
        "end": "2030-12-10T12:00:00Z",
        "impact": "exclusive_lock",
        **overrides,
    }


def book(client: APIClient, **overrides: Any) -> dict[str, Any]:
    """Book a draft through the API and return it."""
    response = client.post("/api/v1/jobs", job_body(**overrides), format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def pending_job(*, requester, **kwargs: Any) -> MaintenanceJob:
    """A job on grading-db (by default) submitted by `requester`, waiting for review."""
    job = builders.job(by=requester, **kwargs)
    return maintenance_job_submit(job_id=job.pk, by=requester)


def approved_job(*, requester, reviewer, start=None, **kwargs: Any) -> MaintenanceJob:
    """A job on grading-db submitted by `requester` and approved by grading's `reviewer`."""
    job = pending_job(requester=requester, start=start or at(10, 8), **kwargs)
    job = maintenance_job_review(job_id=job.pk, team="grading", by=reviewer, approve=True)
    assert job.status == "approved", job.status
    return job

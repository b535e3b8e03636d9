"""Idempotency-Key as real clients send it: from a signed-in session, and after a retry
that spells the path with its trailing slash.

The tests beside this one authenticate with `force_authenticate`, which
skips the session and its CSRF check; a real session sends both.
"""

import pytest
from django.test import Client

from scheduling.models import JobEvent, MaintenanceJob
from tests.personas import as_user
from tests.workflow import job_body, pending_job

pytestmark = pytest.mark.django_db


def session_of(person) -> tuple[Client, str]:
    """A browser-like client signed in as `person`, and its CSRF token."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(person)
    client.get("/accounts/login/")
    return client, client.cookies["csrftoken"].value


def test_a_session_booking_with_an_idempotency_key_books_once_and_replays(requester):
    client, csrf = session_of(requester)
    headers = {"HTTP_X_CSRFTOKEN": csrf, "HTTP_IDEMPOTENCY_KEY": "book-once"}

    first = client.post("/api/v1/jobs", job_body(), content_type="application/json", **headers)
    retry = client.post("/api/v1/jobs", job_body(), content_type="application/json", **headers)

    assert (first.status_code, retry.status_code) == (201, 201), first.content[:200]
    assert retry.json() == first.json()
    assert MaintenanceJob.objects.count() == 1


def test_a_session_approval_retried_with_its_key_is_recorded_once(requester, reviewer):
    job = pending_job(requester=requester)
    client, csrf = session_of(reviewer)
    headers = {"HTTP_X_CSRFTOKEN": csrf, "HTTP_IDEMPOTENCY_KEY": "approve-once"}
    body = {"team": "grading", "comment": "Fine."}

    first = client.post(
        f"/api/v1/jobs/{job.pk}/approve", body, content_type="application/json", **headers
    )
    retry = client.post(
        f"/api/v1/jobs/{job.pk}/approve", body, content_type="application/json", **headers
    )

    assert (first.status_code, retry.status_code) == (200, 200), first.content[:200]
    assert retry.json()["status"] == "approved"
    assert JobEvent.objects.filter(job=job, action="approved").count() == 1


def test_a_session_request_without_its_csrf_token_is_still_refused(requester):
    client, _ = session_of(requester)

    answer = client.post(
        "/api/v1/jobs",
        job_body(),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="no-csrf",
    )

    assert answer.status_code == 403
    assert not MaintenanceJob.objects.exists()


def test_a_retry_that_adds_the_trailing_slash_is_the_same_request(requester):
    # The API answers with or without the slash, so a retry through a client
    # that adds it asks for the same thing and must not be a 422.
    client = as_user(requester)
    body = job_body()
    headers = {"HTTP_IDEMPOTENCY_KEY": "slash"}

    first = client.post("/api/v1/jobs", body, format="json", **headers)
    retry = client.post("/api/v1/jobs/", body, format="json", **headers)

    assert (first.status_code, retry.status_code) == (201, 201), retry.content[:200]
    assert retry.json() == first.json()
    assert MaintenanceJob.objects.count() == 1

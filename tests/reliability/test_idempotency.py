"""Idempotency-Key on every API request that creates or changes something.

A retry with the same key and body replays the first answer and changes
nothing; the same key with another body is a 422; keys belong to their
caller and are kept CLEARWAY_IDEMPOTENCY_TTL (24 h).
"""

import json
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from rest_framework.test import APIClient

from deadlines.models import Deadline
from idempotency.models import IdempotencyKey
from idempotency.services import idempotency_key_claim
from idempotency.tasks import purge
from scheduling.models import ApiToken, JobEvent, MaintenanceJob
from tests.ci.clients import bearer, token_for
from tests.personas import as_user
from tests.workflow import job_body, pending_job

pytestmark = pytest.mark.django_db

KEY = "2f1c0a4e-retry-me"


def post(client, path, body, key=KEY, **kwargs):
    return client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY=key, **kwargs)


def test_a_retried_booking_replays_the_first_answer_and_books_once(requester):
    client = as_user(requester)

    first = post(client, "/api/v1/jobs", job_body())
    retry = post(client, "/api/v1/jobs", job_body())

    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert MaintenanceJob.objects.count() == 1


def test_the_same_key_with_another_body_is_a_422_and_books_nothing(requester):
    client = as_user(requester)
    post(client, "/api/v1/jobs", job_body())

    answer = post(client, "/api/v1/jobs", job_body(title="Something else"))

    assert answer.status_code == 422
    body = answer.json()
    assert body["code"] == "idempotency_key_reused"
    assert "Idempotency-Key" in body["errors"]
    assert MaintenanceJob.objects.count() == 1


def test_the_same_key_on_another_path_is_a_422(requester):
    client = as_user(requester)
    job = post(client, "/api/v1/jobs", job_body()).json()

    answer = post(client, f"/api/v1/jobs/{job['id']}/submit", {})

    assert answer.status_code == 422


def test_a_method_the_endpoint_does_not_take_is_a_405_whatever_its_key(requester):
    client = as_user(requester)
    job = post(client, "/api/v1/jobs", job_body()).json()

    answer = client.put(
        f"/api/v1/jobs/{job['id']}/submit", {}, format="json", HTTP_IDEMPOTENCY_KEY=KEY
    )

    assert answer.status_code == 405


def test_a_retried_submit_is_recorded_once(requester):
    client = as_user(requester)
    job = client.post("/api/v1/jobs", job_body(), format="json").json()

    first = post(client, f"/api/v1/jobs/{job['id']}/submit", {})
    events = JobEvent.objects.filter(job_id=job["id"]).count()
    retry = post(client, f"/api/v1/jobs/{job['id']}/submit", {})

    assert first.status_code == retry.status_code == 200
    assert retry.content == first.content
    assert JobEvent.objects.filter(job_id=job["id"]).count() == events


def test_a_retried_approval_is_recorded_once(requester, reviewer):
    job = pending_job(requester=requester)
    client = as_user(reviewer)
    body = {"team": "grading", "comment": "fine"}

    first = post(client, f"/api/v1/jobs/{job.pk}/approve", body)
    events = JobEvent.objects.filter(job=job).count()
    retry = post(client, f"/api/v1/jobs/{job.pk}/approve", body)

    assert first.status_code == retry.status_code == 200
    assert retry["Idempotent-Replayed"] == "true"
    assert JobEvent.objects.filter(job=job).count() == events


def test_keys_belong_to_their_caller(requester, colleague):
    mine = post(as_user(requester), "/api/v1/jobs", job_body())
    theirs = post(as_user(colleague), "/api/v1/jobs", job_body())

    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]
    assert "Idempotent-Replayed" not in theirs


def test_a_token_retries_with_its_key_and_another_token_of_the_team_does_not_share_it(org):
    secret = token_for(org["infra"], "gate:read", "jobs:write")
    client = bearer(secret)

    first = post(client, "/api/v1/jobs", job_body())
    retry = post(client, "/api/v1/jobs", job_body())
    other_token = post(
        bearer(token_for(org["infra"], "jobs:write", name="b")), "/api/v1/jobs", job_body()
    )

    assert (first.status_code, retry.status_code, other_token.status_code) == (201, 201, 201)
    assert retry.json()["id"] == first.json()["id"] != other_token.json()["id"]


def test_a_retried_token_creation_gives_back_the_same_secret_but_never_stores_it_in_clear(
    requester,
):
    client = as_user(requester)
    body = {"name": "deploy", "team": "infra", "scopes": ["gate:read"]}

    first = post(client, "/api/v1/api-tokens", body)
    retry = post(client, "/api/v1/api-tokens", body)

    assert first.status_code == retry.status_code == 201
    assert retry.json()["token"] == first.json()["token"]
    assert ApiToken.objects.count() == 1
    [row] = IdempotencyKey.objects.all()
    assert first.json()["token"].encode() not in bytes(row.answer)
    assert KEY not in row.key_digest


def test_a_retried_upload_publishes_once_although_the_multipart_boundary_changes(
    curriculum_staff,
):
    client = as_user(curriculum_staff)
    csv = b"title,cohort_size,due\nProject 3,2000,2030-12-12T23:59:00Z\n"

    def send(boundary):
        from django.test.client import encode_multipart

        data = encode_multipart(
            boundary, {"file": SimpleUploadedFile("d.csv", csv), "team": "curriculum"}
        )
        return client.generic(
            "POST",
            "/api/v1/deadlines/upload",
            data,
            content_type=f"multipart/form-data; boundary={boundary}",
            HTTP_IDEMPOTENCY_KEY=KEY,
        )

    first = send("AaB03x")
    retry = send("ZzY98w")

    assert first.status_code == retry.status_code == 201, first.content
    assert retry["Idempotent-Replayed"] == "true"
    assert Deadline.objects.count() == 1


def test_a_request_while_the_first_with_its_key_still_runs_is_a_409(requester):
    # The first request has claimed the key and not answered yet.
    client = as_user(requester)
    first = post(client, "/api/v1/jobs", job_body())
    IdempotencyKey.objects.update(status_code=None, answer=None)

    retry = post(client, "/api/v1/jobs", job_body())

    assert retry.status_code == 409
    assert retry.json()["code"] == "in_progress"
    assert retry["Retry-After"]
    assert MaintenanceJob.objects.count() == 1 and first.status_code == 201


def test_the_database_refuses_a_second_claim_of_one_key():
    row = {"caller": "user:1", "key_digest": "d" * 64, "fingerprint": "f" * 64}
    IdempotencyKey.objects.create(created=_now(), **row)

    with pytest.raises(IntegrityError), transaction.atomic():
        IdempotencyKey.objects.create(created=_now(), **row)


def test_a_refused_request_is_not_kept_so_its_retry_runs(requester, outsider):
    refused = post(as_user(outsider), "/api/v1/jobs", job_body())

    assert refused.status_code == 403
    assert not IdempotencyKey.objects.exists()


def test_an_unauthenticated_request_keeps_no_key(requester):
    answer = post(APIClient(), "/api/v1/jobs", job_body())

    assert answer.status_code == 401
    assert not IdempotencyKey.objects.exists()


@pytest.mark.parametrize("key", ["", "x" * 256, "caf\u00e9", "a\r\nb"])
def test_a_malformed_key_is_a_400_naming_the_header(requester, key):
    answer = as_user(requester).post(
        "/api/v1/jobs", job_body(), format="json", headers={"Idempotency-Key": key}
    )

    assert answer.status_code == 400
    assert "Idempotency-Key" in answer.json()["errors"]
    assert not MaintenanceJob.objects.exists()


def test_keys_are_purged_after_24_hours_and_a_retry_then_runs_again(requester, clock):
    client = as_user(requester)
    post(client, "/api/v1/jobs", job_body())

    clock.shift(timedelta(hours=23))
    kept = purge()
    clock.shift(timedelta(hours=1))
    purged = purge()
    retry = post(client, "/api/v1/jobs", job_body())

    assert (kept, purged) == (0, 1)
    assert "Idempotent-Replayed" not in retry
    assert MaintenanceJob.objects.count() == 2


def test_an_expired_key_not_yet_purged_runs_again(requester, clock):
    client = as_user(requester)
    post(client, "/api/v1/jobs", job_body())
    clock.shift(timedelta(hours=24, minutes=1))

    retry = post(client, "/api/v1/jobs", job_body())

    assert retry.status_code == 201 and "Idempotent-Replayed" not in retry
    assert MaintenanceJob.objects.count() == 2


def test_a_claim_left_by_a_dead_request_is_taken_over_after_ten_minutes(clock):
    claim = idempotency_key_claim(caller="user:1", key=KEY, fingerprint="f", now=_now())
    clock.shift(timedelta(minutes=11))

    again = idempotency_key_claim(caller="user:1", key=KEY, fingerprint="f", now=_now())

    assert again.pk == claim.pk


def test_a_get_ignores_the_key(requester):
    answer = as_user(requester).get("/api/v1/jobs", HTTP_IDEMPOTENCY_KEY=KEY)

    assert answer.status_code == 200
    assert not IdempotencyKey.objects.exists()


def _now():
    from django.utils import timezone

    return timezone.now()


def test_the_same_bytes_under_another_charset_are_another_request(requester):
    """The charset changes what the bytes say: Latin-1 reads UTF-8's "é" as "Ã©"."""
    client = as_user(requester)
    body = json.dumps(job_body(title="Réseau"), ensure_ascii=False).encode()
    client.post(
        "/api/v1/jobs",
        body,
        content_type="application/json; charset=utf-8",
        HTTP_IDEMPOTENCY_KEY=KEY,
    )

    answer = client.post(
        "/api/v1/jobs",
        body,
        content_type="application/json; charset=iso-8859-1",
        HTTP_IDEMPOTENCY_KEY=KEY,
    )

    assert answer.status_code == 422
    assert MaintenanceJob.objects.count() == 1

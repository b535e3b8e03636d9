"""Two retries with one Idempotency-Key at the same instant: one runs, the other is told.

The key is claimed by an INSERT under a unique constraint, committed before
the request runs, so a second request with the same key either finds the
claim still open (409 `in_progress`, Retry-After) or, once the first has
answered, gets its answer replayed. It never runs the booking a second time.
"""

import time

import pytest

from scheduling.models import MaintenanceJob
from scheduling.services import jobs as job_services
from tests.personas import as_user
from tests.scheduling.test_concurrency import race
from tests.workflow import job_body

pytestmark = pytest.mark.django_db(transaction=True)


def test_four_simultaneous_retries_book_once(requester, monkeypatch):
    evaluate = job_services.maintenance_job_evaluate

    def slow(**kwargs):
        evaluation = evaluate(**kwargs)
        time.sleep(0.3)  # the first request holds its claim while the others arrive
        return evaluation

    monkeypatch.setattr(job_services, "maintenance_job_evaluate", slow)

    def retry():
        return as_user(requester).post(
            "/api/v1/jobs", job_body(), format="json", HTTP_IDEMPOTENCY_KEY="double-click"
        )

    answers = race(retry, retry, retry, retry)

    assert not [a for a in answers if isinstance(a, Exception)], answers
    statuses = sorted(a.status_code for a in answers)
    booked = [a.json()["id"] for a in answers if a.status_code == 201]
    assert set(statuses) <= {201, 409} and 201 in statuses, statuses
    assert len(set(booked)) == 1
    assert MaintenanceJob.objects.count() == 1
    for answer in answers:
        if answer.status_code == 409:
            assert answer.json()["code"] == "in_progress" and answer["Retry-After"]

"""The booking page books through `maintenance_job_book`, so it is retried as the API is.

A serialization failure (PostgreSQL's 40001) inside the web booking used to
surface as an error page: the submit ran nested in the view's own transaction,
where it may not be retried. Now the booking and its submission are retried
together and the job is booked once.
"""

import pytest

from scheduling.models import MaintenanceJob
from scheduling.services import transitions
from tests.db_errors import serialization_failure
from tests.ui.conftest import client_for
from tests.ui.test_pages import job_post

# The retry runs only around the outermost transaction, so no test transaction may wrap it.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def first_lock_fails(monkeypatch):
    """The submission's first attempt fails with 40001 after taking its row locks."""
    failures = [serialization_failure()]
    real = transitions.lock_job

    def failing_first(*args, **kwargs):
        job = real(*args, **kwargs)
        if failures:
            raise failures.pop()
        return job

    monkeypatch.setattr(transitions, "lock_job", failing_first)
    return failures


def test_a_web_booking_hit_by_a_serialization_failure_is_retried_and_booked_once(
    alice, bob, first_lock_fails
):
    response = client_for(alice).post("/jobs/new/", job_post(action="submit"))

    assert not first_lock_fails, "the serialization failure was raised"
    job = MaintenanceJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/jobs/{job.pk}/"
    assert job.status == "pending"
    assert list(job.history.values_list("action", flat=True).order_by("pk")) == [
        "created",
        "submitted",
    ]
    assert list(job.reviews.values_list("team__slug", flat=True)) == ["grading"]

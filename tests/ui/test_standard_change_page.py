"""The standard changes page: a team defines a template and books from it."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from scheduling.models import MaintenanceJob, StandardChange
from tests.ui.conftest import client_for

pytestmark = pytest.mark.django_db(transaction=True)


def soon(days: int, hour: int) -> datetime:
    day = (timezone.now() + timedelta(days=days)).astimezone(UTC)
    return day.replace(hour=hour, minute=0, second=0, microsecond=0)


def define(person) -> StandardChange:
    answer = client_for(person).post(
        "/standard-changes/",
        {
            "team": "infra-dba",
            "title": "Rotate logs",
            "systems": ["grading-db"],
            "impact": "degraded",
            "max_duration": "02:00:00",
            "timezone": "UTC",
        },
    )
    assert answer.status_code == 302, answer.content.decode()
    return StandardChange.objects.get()


def test_a_team_defines_a_standard_change_and_books_it_approved(alice):
    template = define(alice)

    answer = client_for(alice).post(
        f"/standard-changes/{template.pk}/book/",
        {"start": f"{soon(3, 8):%Y-%m-%dT%H:%M}", "timezone": "UTC"},
    )

    job = MaintenanceJob.objects.get()
    assert answer["Location"] == f"/jobs/{job.pk}/"
    assert (job.status, job.change_type, job.end - job.start) == (
        "approved",
        "standard",
        timedelta(hours=2),
    )
    assert "Rotate logs" in client_for(alice).get("/standard-changes/").content.decode()


def test_the_page_is_for_members_of_a_team(outsider):
    assert client_for(outsider).get("/standard-changes/").status_code == 403


def test_a_maximum_duration_no_job_could_last_is_shown_on_the_form(alice):
    answer = client_for(alice).post(
        "/standard-changes/",
        {
            "team": "infra-dba",
            "title": "Rotate logs",
            "systems": ["grading-db"],
            "impact": "degraded",
            "max_duration": "999999999 00:00:00",
            "timezone": "UTC",
        },
    )

    assert answer.status_code == 400
    assert "max_duration" in answer.context["form"].errors
    assert not StandardChange.objects.exists()


def test_booking_a_start_in_the_past_shows_why_and_books_nothing(alice):
    template = define(alice)

    answer = client_for(alice).post(
        f"/standard-changes/{template.pk}/book/",
        {"start": f"{soon(-2, 8):%Y-%m-%dT%H:%M}", "timezone": "UTC"},
    )

    assert answer.status_code == 400
    assert "already ended" in answer.content.decode()
    assert not MaintenanceJob.objects.exists()

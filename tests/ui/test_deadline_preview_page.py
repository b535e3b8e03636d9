"""The deadline form previews which booked jobs publishing would change, and saves nothing."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from deadlines.models import Deadline
from scheduling.models import MaintenanceJob
from scheduling.services.reviews import maintenance_job_review
from scheduling.services.submission import maintenance_job_submit
from tests import builders
from tests.ui.conftest import client_for

pytestmark = pytest.mark.django_db(transaction=True)


def soon(days: int, hour: int) -> datetime:
    day = (timezone.now() + timedelta(days=days)).astimezone(UTC)
    return day.replace(hour=hour, minute=0, second=0, microsecond=0)


def preview_post(**overrides) -> dict:
    return {
        "title": "Essay 2",
        "course": "DS501",
        "team": "curriculum",
        "cohort_size": "2000",
        "due": f"{soon(6, 17):%Y-%m-%dT%H:%M}",
        "timezone": "UTC",
        "systems": ["grading-api"],
        "action": "preview",
        **overrides,
    }


def test_the_preview_button_lists_the_job_that_would_be_conflicted(org, alice, bob, carol):
    job = builders.job(by=alice, owner=org["infra"], start=soon(6, 8), title="Reindex grades")
    maintenance_job_submit(job_id=job.pk, by=alice)
    maintenance_job_review(job_id=job.pk, team="grading", by=bob, approve=True)

    answer = client_for(carol).post("/deadlines/new/", preview_post())

    html = answer.content.decode()
    assert answer.status_code == 200
    assert "What publishing would change" in html
    assert f"#{job.pk} Reindex grades" in html
    assert "conflicted" in html
    assert not Deadline.objects.exists()
    assert MaintenanceJob.objects.get(pk=job.pk).status == "approved"


def test_a_preview_with_nothing_booked_says_so(carol):
    html = client_for(carol).post("/deadlines/new/", preview_post()).content.decode()

    assert "No booked job would change." in html


def test_the_upload_page_previews_the_jobs_a_file_would_change(org, alice, bob, carol):
    from django.core.files.uploadedfile import SimpleUploadedFile

    job = builders.job(by=alice, owner=org["infra"], start=soon(6, 8), title="Reindex grades")
    maintenance_job_submit(job_id=job.pk, by=alice)
    maintenance_job_review(job_id=job.pk, team="grading", by=bob, approve=True)
    csv = (
        f"title,cohort_size,due,systems\nProject 3,2000,{soon(6, 17):%Y-%m-%dT%H:%M}Z,grading-api\n"
    )

    answer = client_for(carol).post(
        "/deadlines/upload/",
        {
            "file": SimpleUploadedFile("spring.csv", csv.encode()),
            "team": "curriculum",
            "timezone": "UTC",
            "action": "preview",
        },
    )

    html = answer.content.decode()
    assert answer.status_code == 200, html
    assert f"#{job.pk} Reindex grades" in html
    assert not Deadline.objects.exists()
    assert MaintenanceJob.objects.get(pk=job.pk).status == "approved"


def test_an_upload_preview_of_a_file_with_problems_does_not_say_nothing_was_published(carol):
    # A preview never publishes; it said "no deadline was published".
    from django.core.files.uploadedfile import SimpleUploadedFile

    answer = client_for(carol).post(
        "/deadlines/upload/",
        {
            "file": SimpleUploadedFile("spring.csv", b"title,cohort_size,due\nLab 3,many,soon\n"),
            "team": "curriculum",
            "timezone": "UTC",
            "action": "preview",
        },
    )

    html = answer.content.decode()
    assert answer.status_code == 400, html
    assert "no deadline was published" not in html
    assert "The file has 2 problems; fix them to preview what publishing it would change." in html
    assert "row 2" in html

"""Refusals that name no phantom job, rejections that say why, and decisions that
never read a display title."""

import pytest
from django.test import Client

from scheduling.conflicts import Evaluation
from scheduling.engine import Finding
from scheduling.models import MaintenanceJob
from scheduling.services.reviews import refusing_bookings
from scheduling.services.submission import maintenance_job_submit
from tests import builders
from tests.builders import at
from tests.personas import as_user
from tests.workflow import approved_job

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_pending_job_titled_approved_does_not_block_a_justified_emergency(
    requester, reviewer, org
):
    other = builders.job(
        owner=org["grading"], by=reviewer, systems=["reports-db"], title="Vacuum (approved) tables"
    )
    maintenance_job_submit(job_id=other.pk, by=reviewer)
    job = builders.job(by=requester, systems=["reports-db"])

    answer = as_user(requester).post(
        f"/api/v1/jobs/{job.pk}/submit",
        {"emergency": True, "justification": "The reports disk is full."},
        format="json",
    )

    assert answer.status_code == 200, answer.json()
    assert answer.json()["status"] in ("pending", "approved")


def test_an_approved_booking_still_blocks_an_emergency(requester, reviewer, colleague):
    approved_job(requester=colleague, reviewer=reviewer, title="Reindex")
    job = builders.job(by=requester, start=at(10, 9))

    answer = as_user(requester).post(
        f"/api/v1/jobs/{job.pk}/submit",
        {"emergency": True, "justification": "The disk is full."},
        format="json",
    )

    assert answer.status_code == 409


def test_a_refused_booking_from_the_page_names_no_job(requester):
    builders.blackout(start=at(10), end=at(11), title="Exam day")
    page = Client()
    page.force_login(requester)

    answer = page.post(
        "/jobs/new/",
        {
            "title": "Reindex",
            "team": "infra",
            "systems": ["grading-db"],
            "start": "2030-12-10T08:00",
            "end": "2030-12-10T12:00",
            "timezone": "UTC",
            "recurrence": "none",
            "impact": "exclusive_lock",
            "action": "submit",
        },
    )

    text = answer.content.decode()
    assert answer.status_code == 409, text
    assert not MaintenanceJob.objects.exists()
    assert "Job #" not in text
    assert "Exam day" in text


def test_a_rejection_needs_a_comment(requester, reviewer):
    job = maintenance_job_submit(job_id=builders.job(by=requester).pk, by=requester)

    answer = as_user(reviewer).post(
        f"/api/v1/jobs/{job.pk}/reject", {"team": "grading", "comment": "  "}
    )

    assert answer.status_code == 400
    assert "comment" in answer.json()["errors"]
    assert MaintenanceJob.objects.get(pk=job.pk).status == "pending"


def test_the_inbox_card_shows_an_emergencys_justification(requester, reviewer):
    builders.blackout(start=at(10), end=at(11), title="Exam day")
    job = builders.job(by=requester)
    maintenance_job_submit(
        job_id=job.pk, by=requester, emergency=True, justification="The grading disk is 98% full"
    )
    client = Client()
    client.force_login(reviewer)

    page = client.get("/reviews/").content.decode()

    assert "The grading disk is 98% full" in page


def test_only_an_approved_jobs_row_makes_a_booking_unoverridable_never_its_title(
    requester, reviewer, org
):
    pending = builders.job(
        owner=org["grading"], by=reviewer, systems=["reports-db"], title="Vacuum (approved) tables"
    )
    maintenance_job_submit(job_id=pending.pk, by=reviewer)
    approved = approved_job(requester=requester, reviewer=reviewer, title="Reindex")

    def refusing(job, title: str) -> Finding:
        return Finding(
            kind="maintenance",
            severity="refuse",
            start=at(10, 8),
            end=at(10, 12),
            systems=("reports-db",),
            title=title,
            message=f"collides with job #{job.pk}",
            sources=(f"job:{job.pk}",),
        )

    evaluation = Evaluation(
        decision="refuse",
        findings=[
            refusing(pending, "Vacuum (approved) tables (pending review)"),
            refusing(approved, "Reindex"),
        ],
        impacted=frozenset({"reports-db"}),
    )

    assert refusing_bookings(evaluation) == [f"collides with job #{approved.pk}"]

"""An emergency declared by editing a conflicted job (PATCH `emergency`, `justification`
and a new window) is an override as much as one declared on submit: recorded,
announced to the administrators, and refused without a justification."""

import pytest
from django.core import mail

from scheduling.models import MaintenanceJob
from tests import builders
from tests.builders import at
from tests.personas import as_user
from tests.workflow import approved_job

pytestmark = pytest.mark.django_db

MOVED = "2030-12-10T11:59:00Z"  # a new end: the move sends the job back to review


@pytest.fixture
def conflicted(requester, reviewer, django_capture_on_commit_callbacks) -> MaintenanceJob:
    """Alice's approved job, refused since by a deadline published later."""
    job = approved_job(requester=requester, reviewer=reviewer)
    with django_capture_on_commit_callbacks(execute=True):
        builders.deadline(due=at(10, 23), cohort_size=2000, systems=["grading-api"])
    job.refresh_from_db()
    assert job.status == "conflicted"
    mail.outbox.clear()
    return job


def declare_emergency(person, job, capture, **body):
    with capture(execute=True):
        return as_user(person).patch(
            f"/api/v1/jobs/{job.pk}", {"emergency": True, "end": MOVED, **body}, format="json"
        )


def test_an_emergency_declared_by_patch_records_the_override_and_its_justification(
    requester, conflicted, django_capture_on_commit_callbacks
):
    answer = declare_emergency(
        requester, conflicted, django_capture_on_commit_callbacks, justification="Disk full."
    )

    assert answer.status_code == 200, answer.json()
    overrides = [e for e in answer.json()["history"] if e["action"] == "emergency_override"]
    assert [(e["actor"], e["reason"]) for e in overrides] == [("alice", "Disk full.")]


def test_an_emergency_declared_by_patch_is_announced_to_the_administrators(
    requester, conflicted, settings, django_capture_on_commit_callbacks
):
    declare_emergency(
        requester, conflicted, django_capture_on_commit_callbacks, justification="Disk full."
    )

    administrators = f"{settings.CLEARWAY_ADMIN_TEAM}@example.org"
    notices = [
        m for m in mail.outbox if administrators in m.to and "Emergency override" in m.subject
    ]
    assert [m.body.count("Disk full.") for m in notices] == [1]


def test_an_emergency_declared_by_patch_without_a_justification_is_refused(
    requester, conflicted, django_capture_on_commit_callbacks
):
    answer = declare_emergency(requester, conflicted, django_capture_on_commit_callbacks)

    assert answer.status_code == 400
    assert list(answer.json()["errors"]) == ["justification"]
    assert MaintenanceJob.objects.get(pk=conflicted.pk).status == "conflicted"

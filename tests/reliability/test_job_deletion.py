"""High 3, third bullet: cancelled jobs leave feeds promptly; administrators delete jobs.

A cancelled job stays in feeds as CANCELLED for CLEARWAY_FEED_CANCELLED_KEPT
(one day), not 30 days; an administrator can delete a job (spam bookings),
which takes it out of every feed at once and re-evaluates what it refused.
"""

from datetime import timedelta

import pytest
from django.test import Client

from scheduling.models import CalendarChange, JobEvent, JobOccurrence, MaintenanceJob
from scheduling.services.transitions import maintenance_job_cancel
from tests import builders
from tests.builders import at
from tests.ci.clients import bearer, token_for
from tests.personas import as_user
from tests.workflow import approved_job, pending_job

pytestmark = pytest.mark.django_db


def maintenance_feed(person) -> str:
    answer = as_user(person).post("/api/v1/feed-tokens", {"name": "phone"}, format="json")
    url = answer.json()["urls"]["maintenance"]
    answer = Client().get(url[url.index("/calendar/") :])
    return b"".join(answer.streaming_content).decode()


def test_an_administrator_deletes_a_job_and_it_leaves_the_feed_at_once(requester, admin):
    job = pending_job(requester=requester, title="Spam booking")
    assert "Spam booking" in maintenance_feed(admin)

    answer = as_user(admin).delete(f"/api/v1/jobs/{job.pk}")

    assert answer.status_code == 204
    assert not MaintenanceJob.objects.filter(pk=job.pk).exists()
    assert not JobOccurrence.objects.filter(job_id=job.pk).exists()
    assert "Spam booking" not in maintenance_feed(admin)


def test_deleting_a_job_is_recorded_with_who_did_it(requester, admin):
    job = builders.job(by=requester, title="Spam booking")

    as_user(admin).delete(f"/api/v1/jobs/{job.pk}")

    change = CalendarChange.objects.order_by("-pk").first()
    assert f"job #{job.pk}" in change.reason and "deleted by pat" in change.reason


def test_deleting_an_approved_job_re_evaluates_the_job_it_refused(
    requester, reviewer, admin, colleague, django_capture_on_commit_callbacks
):
    blocker = approved_job(requester=requester, reviewer=reviewer, title="Blocker")
    refused = builders.job(by=colleague, title="Second")
    as_user(colleague).post(f"/api/v1/jobs/{refused.pk}/submit", format="json")
    refused.refresh_from_db()
    assert refused.decision == "refuse"

    with django_capture_on_commit_callbacks(execute=True):
        as_user(admin).delete(f"/api/v1/jobs/{blocker.pk}")

    refused.refresh_from_db()
    assert refused.decision != "refuse"


def test_the_requester_cannot_delete_their_job(requester):
    job = builders.job(by=requester)

    answer = as_user(requester).delete(f"/api/v1/jobs/{job.pk}")

    assert answer.status_code == 403
    assert MaintenanceJob.objects.filter(pk=job.pk).exists()


def test_a_token_cannot_delete_a_job(org, requester):
    job = builders.job(by=requester)
    client = bearer(token_for(org["infra"], "gate:read", "jobs:write"))

    answer = client.delete(f"/api/v1/jobs/{job.pk}")

    assert answer.status_code == 403
    assert MaintenanceJob.objects.filter(pk=job.pk).exists()


def test_the_admin_site_deletes_a_job_through_the_service(requester, admin):
    job = builders.job(by=requester)
    admin.is_superuser = True  # the admin site also wants Django's model permissions
    admin.save(update_fields=["is_superuser"])
    client = Client()
    client.force_login(admin)

    answer = client.post(f"/admin/scheduling/maintenancejob/{job.pk}/delete/", {"post": "yes"})

    assert answer.status_code == 302
    assert not MaintenanceJob.objects.filter(pk=job.pk).exists()
    assert not JobEvent.objects.filter(job_id=job.pk).exists()


def test_a_cancelled_job_leaves_the_feed_after_a_day(requester, admin, clock):
    job = pending_job(requester=requester, title="Cancelled soon", start=at(20, 8))
    maintenance_job_cancel(job_id=job.pk, by=requester)
    assert "STATUS:CANCELLED" in maintenance_feed(admin)

    clock.shift(timedelta(days=1, minutes=1))

    assert "Cancelled soon" not in maintenance_feed(admin)

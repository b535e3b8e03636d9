"""In the browser: the deadline impact preview, the freeze scheduler and booking a
standard change."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from deadlines.models import Deadline
from scheduling.models import Freeze, MaintenanceJob
from scheduling.services.reviews import maintenance_job_review
from scheduling.services.standard import standard_change_create
from scheduling.services.submission import maintenance_job_submit
from tests import builders

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def local(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


def soon(days: int, hour: int) -> datetime:
    day = (timezone.now() + timedelta(days=days)).astimezone(UTC)
    return day.replace(hour=hour, minute=0, second=0, microsecond=0)


def test_curriculum_staff_preview_a_deadline_before_publishing(sign_in, org, alice, bob, carol):
    from playwright.sync_api import expect

    job = builders.job(by=alice, owner=org["infra"], start=soon(6, 8), title="Reindex grades")
    maintenance_job_submit(job_id=job.pk, by=alice)
    maintenance_job_review(job_id=job.pk, team="grading", by=bob, approve=True)

    page = sign_in(carol)
    page.goto(page.url + "deadlines/new/")
    page.get_by_label("Title").fill("Project 3")
    page.get_by_label("Students").fill("2000")
    page.get_by_label("Due").fill(local(soon(6, 17)))
    page.get_by_role("button", name="Preview impact").click()

    preview = page.locator("#impact-preview")
    expect(preview).to_contain_text("Reindex grades")
    expect(preview).to_contain_text("conflicted")
    assert not Deadline.objects.exists()
    assert MaintenanceJob.objects.get(pk=job.pk).status == "approved"

    page.get_by_role("button", name="Publish deadline").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Project 3")
    assert MaintenanceJob.objects.get(pk=job.pk).status == "conflicted"


def test_an_administrator_schedules_a_recurring_freeze(sign_in, pat):
    from playwright.sync_api import expect

    page = sign_in(pat)
    page.get_by_role("link", name="Freeze").click()
    form = page.get_by_role("form", name="Schedule a freeze")
    form.get_by_label("Reason").fill("Exam season")
    form.get_by_label("Start").fill(local(soon(10, 9)))
    form.get_by_label("End").fill(local(soon(10, 17)))
    form.get_by_label("Repeats (RRULE)").fill("FREQ=DAILY;COUNT=5")
    form.get_by_role("button", name="Schedule the freeze").click()

    expect(page.get_by_role("status").or_(page.locator(".messages"))).to_contain_text("scheduled")
    expect(page.get_by_role("table")).to_contain_text("Exam season")
    freeze = Freeze.objects.get()
    assert (freeze.rrule, freeze.end - freeze.start) == ("FREQ=DAILY;COUNT=5", timedelta(hours=8))

    page.get_by_role("button", name="Call off").click()
    expect(page.get_by_role("table")).to_contain_text("called off by pat")


def test_a_team_books_a_standard_change_and_it_is_approved_at_once(sign_in, org, alice):
    from playwright.sync_api import expect

    standard_change_create(
        team=org["infra"],
        title="Rotate grading-db logs",
        systems=["grading-db"],
        impact="degraded",
        max_duration=timedelta(hours=2),
        by=alice,
    )

    page = sign_in(alice)
    page.get_by_role("link", name="Standard changes").click()
    card = page.get_by_role("form", name="Book Rotate grading-db logs")
    card.get_by_label("Start").fill(local(soon(4, 8)))
    card.get_by_role("button", name="Book this standard change").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Rotate grading-db logs")
    job = MaintenanceJob.objects.get()
    assert (job.status, job.change_type) == ("approved", "standard")

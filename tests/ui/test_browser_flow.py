"""The incident, in the browser: book, see the collision live, take a clear slot,
get it approved, then a deadline lands in its window and the job leaves approval."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from scheduling.models import MaintenanceJob
from tests import builders

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def local(moment: datetime) -> str:
    """What a datetime-local input holds for `moment` in UTC (the viewer's zone here)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def project_due(org):
    """A 2,000-student deadline a week from now, at noon UTC."""
    day = (timezone.now() + timedelta(days=7)).astimezone(UTC)
    due = day.replace(hour=12, minute=0, second=0, microsecond=0)
    builders.deadline(
        title="Project 3",
        due=due,
        cohort_size=2000,
        systems=("grading-api",),
        owner=org["curriculum"],
    )
    return due


def test_book_review_and_a_late_deadline(sign_in, web, alice, bob, carol, project_due):
    from playwright.sync_api import expect

    # alice books exclusive locks on grading-db the day before the deadline.
    page = sign_in(alice)
    page.get_by_role("link", name="Book a job").click()
    page.get_by_label("Title").fill("Reindex the grading tables")
    page.get_by_label("grading-db").check()
    expect(page.locator("#live-impacted")).to_contain_text("grading-api, submissions-web")
    start = project_due - timedelta(days=1, hours=4)
    page.get_by_label("Start").fill(local(start))
    page.get_by_label("End").fill(local(start + timedelta(hours=4)))

    # The collision appears while typing: severity, kind and source, and clear slots.
    finding = page.locator("#live-findings .finding-refuse").first
    expect(finding).to_contain_text("Refused")
    expect(finding).to_contain_text("Deadline traffic")
    expect(finding.get_by_role("link", name="Project 3 (2,000 students)")).to_be_visible()
    expect(page.locator("#live-status")).to_contain_text("Refused")

    # One click takes the first clear slot, and the check says so.
    page.locator("#live-slots").get_by_role("button", name="Use this slot").first.click()
    expect(page.locator("#live-status")).to_contain_text("Clear")
    slot_start = datetime.fromisoformat(page.get_by_label("Start").input_value()).replace(
        tzinfo=UTC
    )
    assert slot_start >= project_due + timedelta(hours=6)

    page.get_by_role("button", name="Submit for review").click()
    expect(page.locator("#job-status")).to_have_text("Pending review")
    job = MaintenanceJob.objects.get(title="Reindex the grading tables")
    assert job.start == slot_start
    expect(page.get_by_text(f"/api/v1/jobs/{job.pk}/gate")).to_be_visible()

    # bob approves it for grading from his inbox, in another browser context.
    reviewer = sign_in(bob)
    reviewer.get_by_role("link", name="Reviews").click()
    card = reviewer.locator("article.review", has_text="Reindex the grading tables")
    card.get_by_label("Comment").fill("Fine after the deadline.")
    card.get_by_role("button", name="Approve").click()
    expect(reviewer.get_by_text("it is now approved")).to_be_visible()
    page.reload()
    expect(page.locator("#job-status")).to_have_text("Approved")

    # carol publishes another deadline whose traffic covers the approved window.
    staff = sign_in(carol)
    staff.get_by_role("link", name="Deadlines").click()
    staff.get_by_role("link", name="Publish a deadline").click()
    staff.get_by_label("Title").fill("Resit exam upload")
    staff.get_by_label("Students").fill("1500")
    staff.get_by_label("Due").fill(local(slot_start + timedelta(days=1)))
    staff.get_by_role("button", name="Publish deadline").click()
    expect(staff.get_by_text("is published")).to_be_visible()

    # The job has left `approved`, and its page says why.
    page.reload()
    expect(page.locator("#job-status")).not_to_have_text("Approved")
    expect(page.locator("#job-status")).to_have_text("Conflicted")
    expect(page.locator("#findings-title + p + ul")).to_contain_text("Resit exam upload")
    assert MaintenanceJob.objects.get(pk=job.pk).status == "conflicted"


def test_a_refused_submission_keeps_what_was_typed(sign_in, web, alice, project_due):
    from playwright.sync_api import expect

    page = sign_in(alice)
    page.goto(f"{web.url}/jobs/new/")
    page.get_by_label("Title").fill("Vacuum during the rush")
    page.get_by_label("Description").fill("Takes locks.")
    page.get_by_label("grading-db").check()
    start = project_due - timedelta(hours=10)
    page.get_by_label("Start").fill(local(start))
    page.get_by_label("End").fill(local(start + timedelta(hours=2)))
    page.get_by_role("button", name="Submit for review").click()

    refusal = page.locator("#refusal")
    expect(refusal).to_contain_text("This window is refused")
    expect(refusal.get_by_role("button", name="Use this slot").first).to_be_visible()
    expect(page.get_by_label("Title")).to_have_value("Vacuum during the rush")
    expect(page.get_by_label("Description")).to_have_value("Takes locks.")
    expect(page.get_by_label("grading-db")).to_be_checked()
    expect(page.get_by_label("Start")).to_have_value(local(start))
    assert not MaintenanceJob.objects.exists()

    # The emergency box reveals the justification it needs.
    justification = page.get_by_label("Justification")
    expect(justification).to_be_hidden()
    page.get_by_label("This is an emergency").check()
    expect(justification).to_be_visible()


def test_rescheduling_does_not_collide_with_its_own_booking(sign_in, web, alice, org):
    from playwright.sync_api import expect

    from scheduling.services.submission import maintenance_job_submit

    start = (
        (timezone.now() + timedelta(days=3))
        .astimezone(UTC)
        .replace(hour=8, minute=0, second=0, microsecond=0)
    )
    job = builders.job(owner=org["infra"], start=start, by=alice, title="Reindex")
    maintenance_job_submit(job_id=job.pk, by=alice)
    page = sign_in(alice)
    page.goto(f"{web.url}/jobs/{job.pk}/edit/")
    expect(page.locator("#live-status")).to_contain_text("Clear")
    page.get_by_label("End").fill(local(start + timedelta(hours=5)))
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#job-status")).to_have_text("Pending review")
    job.refresh_from_db()
    assert job.end == start + timedelta(hours=5)

"""The booking page's live panel names instants in the viewer's zone, as the pages do."""

from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from tests import builders

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_live_findings_show_the_deadline_in_the_viewers_zone(sign_in, web, alice, org):
    from playwright.sync_api import expect

    day = (timezone.now() + timedelta(days=7)).astimezone(UTC)
    due = day.replace(hour=17, minute=0, second=0, microsecond=0)  # 12:00 in New York in winter
    builders.deadline(title="Project 3", due=due, cohort_size=2000, owner=org["curriculum"])
    page = sign_in(alice)
    page.goto(f"{web.url}/zone/?next=/jobs/new/")
    page.get_by_label("Show times in").select_option("America/New_York")
    page.get_by_role("button", name="Use this zone").click()

    page.goto(f"{web.url}/jobs/new/")
    page.get_by_label("grading-db").check()
    page.get_by_label("Time zone").select_option("UTC")
    start = due - timedelta(hours=3)
    page.get_by_label("Start").fill(start.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("End").fill((start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))

    finding = page.locator("#live-findings .finding").first
    expect(finding).to_be_visible()
    message = finding.locator("p").first.inner_text()
    local_due = due.astimezone(ZoneInfo("America/New_York"))
    assert f"{local_due:%H:%M}" in message
    assert " UTC" not in message
    assert any(name in message for name in ("EST", "EDT", "GMT-5", "GMT-4")), message

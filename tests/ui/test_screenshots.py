"""Screenshots of the main pages for the README (docs/screenshots/*.png).

Skipped unless SCREENSHOTS=1:  SCREENSHOTS=1 .venv/bin/pytest tests/ui/test_screenshots.py
They are taken on the demo organisation (`load_demo`), as a first-time user sees it.
"""

import os
from datetime import timedelta
from pathlib import Path

import pytest

from demo.data import load_demo
from scheduling.models import MaintenanceJob
from scheduling.services.jobs import maintenance_job_create
from scheduling.services.submission import maintenance_job_submit

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        os.environ.get("SCREENSHOTS") != "1", reason="set SCREENSHOTS=1 to take them"
    ),
]

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def test_take_screenshots(browser, web):
    from django.contrib.auth import get_user_model
    from playwright.sync_api import expect

    load_demo()
    users = {u.username: u for u in get_user_model().objects.all()}
    patching = MaintenanceJob.objects.get(title__startswith="Kernel patching")
    maintenance_job_submit(job_id=patching.pk, by=users["dave"])
    quarterly = MaintenanceJob.objects.get(title__startswith="Quarterly")
    clear_start = quarterly.start - timedelta(days=3)
    reindex = maintenance_job_create(
        team=quarterly.team,
        title="Reindex submissions (CONCURRENTLY)",
        systems=["grading-db"],
        start=clear_start,
        end=clear_start + timedelta(hours=2),
        impact="degraded",
        timezone="Europe/London",
        by=users["alice"],
    )
    maintenance_job_submit(job_id=reindex.pk, by=users["alice"])
    OUT.mkdir(parents=True, exist_ok=True)

    def open_as(username, width=1280, height=900):
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        page.goto(f"{web.url}/accounts/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill("clearway-demo")
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{web.url}/")
        return page

    alice = open_as("alice")
    alice.goto(f"{web.url}/zone/")
    alice.get_by_label("Show times in").select_option("Europe/London")
    alice.get_by_role("button", name="Use this zone").click()
    alice.goto(f"{web.url}/?view=month")
    alice.screenshot(path=OUT / "calendar-month.png", full_page=True)
    alice.goto(f"{web.url}/?view=timeline")
    alice.screenshot(path=OUT / "calendar-timeline.png", full_page=True)

    alice.goto(f"{web.url}/jobs/new/")
    alice.get_by_label("Title").fill("Quarterly grading-db optimisation")
    alice.get_by_label("grading-db").check()
    local = quarterly.start.astimezone(quarterly.start.tzinfo)
    alice.get_by_label("Time zone").select_option("UTC")
    alice.get_by_label("Start").fill(f"{local:%Y-%m-%dT%H:%M}")
    alice.get_by_label("End").fill(f"{local + timedelta(hours=6):%Y-%m-%dT%H:%M}")
    alice.get_by_label("Repeats").select_option("quarterly")
    expect(
        alice.locator("#live-slots").get_by_role("button", name="Use this slot").first
    ).to_be_visible()
    alice.screenshot(path=OUT / "booking-live-finding.png", full_page=True)

    alice.goto(f"{web.url}/jobs/{quarterly.pk}/")
    alice.get_by_role("button", name="Submit for review").click()
    expect(alice.locator("#refusal")).to_be_visible()
    alice.screenshot(path=OUT / "job-refused.png", full_page=True)

    bob = open_as("bob")
    bob.goto(f"{web.url}/reviews/")
    bob.screenshot(path=OUT / "review-inbox.png", full_page=True)
    bob.goto(f"{web.url}/jobs/{reindex.pk}/")
    bob.screenshot(path=OUT / "job-page.png", full_page=True)

    phone = open_as("alice", width=390, height=844)
    phone.goto(f"{web.url}/jobs/new/")
    phone.get_by_label("grading-db").check()
    phone.get_by_label("Time zone").select_option("UTC")
    phone.get_by_label("Start").fill(f"{local:%Y-%m-%dT%H:%M}")
    phone.get_by_label("End").fill(f"{local + timedelta(hours=6):%Y-%m-%dT%H:%M}")
    expect(phone.locator("#live-status")).to_contain_text("Refused")
    phone.screenshot(path=OUT / "phone-booking.png", full_page=True)

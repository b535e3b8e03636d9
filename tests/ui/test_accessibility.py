"""axe-core, run inside Chromium on the main pages: no serious or critical violation.

axe.min.js is vendored in tests/ui/vendor (nothing is downloaded at test time).
"""

from datetime import UTC, timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from scheduling.services.submission import maintenance_job_submit
from tests import builders

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
BLOCKING = {"serious", "critical"}


def violations(page) -> list[str]:
    # Evaluated through the DevTools protocol, which the page's Content Security
    # Policy does not govern: a <script> tag with axe's text would be blocked by it.
    page.evaluate(AXE.read_text())
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(str(node["target"]) for node in v["nodes"][:3])
        for v in result["violations"]
        if v["impact"] in BLOCKING
    ]


@pytest.fixture
def calendar_data(org, alice):
    start = (
        (timezone.now() + timedelta(days=2))
        .astimezone(UTC)
        .replace(hour=8, minute=0, second=0, microsecond=0)
    )
    job = builders.job(owner=org["infra"], start=start, by=alice, title="Reindex grading")
    maintenance_job_submit(job_id=job.pk, by=alice)
    builders.blackout(
        title="Exam boards", start=start + timedelta(hours=6), systems=("grading-api",)
    )
    builders.deadline(title="Project 3", due=start + timedelta(days=4), owner=org["curriculum"])
    return job


def test_the_main_pages_pass_axe(sign_in, web, alice, bob, carol, pat, calendar_data):
    from playwright.sync_api import expect

    found: dict[str, list[str]] = {}

    engineer = sign_in(alice)
    for path in [
        "/",
        "/?view=month",
        "/?view=timeline",
        "/jobs/",
        f"/jobs/{calendar_data.pk}/",
        "/feed-tokens/",
        "/api-tokens/",
        "/deadlines/",
        "/blackouts/",
        "/zone/",
        "/systems/",
        "/freeze/",
    ]:
        engineer.goto(web.url + path)
        found[path] = violations(engineer)

    # The booking page with a live finding on screen.
    engineer.goto(f"{web.url}/jobs/new/")
    engineer.get_by_label("grading-db").check()
    start = calendar_data.start + timedelta(days=3)
    engineer.get_by_label("Start").fill(start.strftime("%Y-%m-%dT%H:%M"))
    engineer.get_by_label("End").fill((start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))
    expect(engineer.locator("#live-findings .finding").first).to_be_visible()
    found["/jobs/new/ (live finding)"] = violations(engineer)
    # ... and after a refused submission, with errors next to fields.
    engineer.get_by_role("button", name="Submit for review").click()
    found["/jobs/new/ (errors)"] = violations(engineer)

    reviewer = sign_in(bob)
    reviewer.goto(f"{web.url}/reviews/")
    expect(reviewer.get_by_role("button", name="Approve")).to_be_visible()
    found["/reviews/"] = violations(reviewer)

    staff = sign_in(carol)
    for path in ["/deadlines/", "/deadlines/new/", "/deadlines/upload/", "/deadlines/feeds/new/"]:
        staff.goto(web.url + path)
        found[path] = violations(staff)

    admin = sign_in(pat)
    for path in ["/blackouts/", "/blackouts/new/"]:
        admin.goto(web.url + path)
        found[path] = violations(admin)

    failing = {path: problems for path, problems in found.items() if problems}
    assert not failing, failing


def test_the_login_page_passes_axe(browser, web):
    page = browser.new_page()
    page.goto(f"{web.url}/accounts/login/")
    assert violations(page) == []
    page.close()


@pytest.mark.parametrize(
    "path", ["/", "/?view=timeline", "/jobs/new/", "/reviews/", "/api-tokens/", "/deadlines/"]
)
def test_pages_fit_a_phone(path, sign_in, web, alice, calendar_data):
    page = sign_in(alice, width=390, height=844)
    page.goto(web.url + path)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{path} scrolls sideways by {overflow}px on a phone"
    assert violations(page) == []


def test_the_keyboard_reaches_the_skip_link_first_and_focus_is_visible(sign_in, web, alice):
    page = sign_in(alice)
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Skip to content"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"


def test_the_check_itself_catches_a_violation(browser):
    """Guards the harness: an unlabelled field must be reported."""
    page = browser.new_page()
    page.set_content("<html lang='en'><title>t</title><main><input type='text'></main></html>")
    assert any(v.startswith("label ") for v in violations(page))
    page.close()

"""The pages' scripts work under a strict Content Security Policy (scripts from 'self' only)."""

import pytest
from playwright.sync_api import expect

from tests import builders

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


SCRIPTS = "default-src 'self'; script-src 'self'"
STYLES = "default-src 'self'; script-src 'self'; style-src 'self'"


def under_policy(page, policy: str) -> None:
    """Serve every page with `policy` (whatever the server sends) and record what it blocks.

    The live server's middleware is built once per session, so the header is
    added on the way to the browser instead of through settings.
    """

    def with_policy(route):
        response = route.fetch()
        headers = {**response.headers, "content-security-policy": policy}
        route.fulfill(response=response, headers=headers)

    page.route("**/*", with_policy)
    page.add_init_script(
        "window.violations = []; document.addEventListener('securitypolicyviolation',"
        " e => window.violations.push(e.violatedDirective + ' ' + e.blockedURI));"
    )


def test_the_feed_link_copy_button_copies_under_a_strict_policy(sign_in, web, alice):
    page = sign_in(alice)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=web.url)
    under_policy(page, SCRIPTS)
    page.goto(f"{web.url}/feed-tokens/")
    page.get_by_label("Name").fill("Laptop")
    page.get_by_role("button", name="Create feed links").click()

    page.get_by_role("button", name="Copy the all address").click()

    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == page.locator("#feed-all").input_value()
    assert copied.endswith("/all.ics")
    assert page.evaluate("window.violations") == []


def test_the_live_panel_runs_under_a_strict_policy(sign_in, web, alice):
    page = sign_in(alice)
    under_policy(page, SCRIPTS)
    page.goto(f"{web.url}/jobs/new/")
    page.get_by_label("Start").fill("2031-03-04T08:00")
    page.get_by_label("End").fill("2031-03-04T10:00")
    page.get_by_label("grading-db").check()

    expect(page.locator("#live-impacted")).to_contain_text("grading-api, submissions-web")
    expect(page.locator("#live-status")).to_contain_text("Clear")
    assert page.evaluate("window.violations") == []


def test_the_timeline_places_its_bars_under_a_strict_style_policy(sign_in, web, alice, org):
    start = builders.at(10, 8)
    builders.blackout(title="Exam boards", start=start, systems=("grading-db",))
    page = sign_in(alice)
    under_policy(page, STYLES)

    page.goto(f"{web.url}/?view=timeline&date=2030-12-01&system=grading-db")

    left = page.locator(".mark-blackout").first.evaluate("e => e.style.left")
    assert left.endswith("%") and float(left[:-1]) > 0
    assert page.evaluate("window.violations") == []

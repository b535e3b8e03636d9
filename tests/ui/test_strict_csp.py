"""The pages' scripts work under a strict Content Security Policy (scripts from 'self' only)."""

import pytest
from django.utils.csp import CSP
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def strict_csp(settings):
    settings.MIDDLEWARE = [
        *settings.MIDDLEWARE,
        "django.middleware.csp.ContentSecurityPolicyMiddleware",
    ]
    settings.SECURE_CSP = {"default-src": [CSP.SELF], "script-src": [CSP.SELF]}


def _watch(page):
    page.add_init_script(
        "window.violations = []; document.addEventListener('securitypolicyviolation',"
        " e => window.violations.push(e.violatedDirective + ' ' + e.blockedURI));"
    )


def test_the_feed_link_copy_button_copies_under_a_strict_policy(strict_csp, sign_in, web, alice):
    page = sign_in(alice)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=web.url)
    _watch(page)
    page.goto(f"{web.url}/feed-tokens/")
    page.get_by_label("Name").fill("Laptop")
    page.get_by_role("button", name="Create feed links").click()

    page.get_by_role("button", name="Copy the all address").click()

    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == page.locator("#feed-all").input_value()
    assert copied.endswith("/all.ics")
    assert page.evaluate("window.violations") == []


def test_the_live_panel_runs_under_a_strict_policy(strict_csp, sign_in, web, alice):
    page = sign_in(alice)
    _watch(page)
    page.goto(f"{web.url}/jobs/new/")
    page.get_by_label("Start").fill("2031-03-04T08:00")
    page.get_by_label("End").fill("2031-03-04T10:00")
    page.get_by_label("grading-db").check()

    expect(page.locator("#live-impacted")).to_contain_text("grading-api, submissions-web")
    expect(page.locator("#live-status")).to_contain_text("Clear")
    assert page.evaluate("window.violations") == []

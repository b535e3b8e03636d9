"""In Chromium: the Content Security Policy blocks nothing Clearway needs.

The booking page's live check (book.js) and Swagger UI run with no CSP
violation reported by the browser.
"""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def watch(page) -> list[str]:
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return violations


def test_swagger_ui_renders_its_operations_under_the_csp(sign_in, web, alice):
    from playwright.sync_api import expect

    page = sign_in(alice)
    violations = watch(page)

    page.goto(f"{web.url}/api/docs/")

    expect(page.locator(".opblock").first).to_be_visible()
    assert violations == []


def test_the_booking_page_script_runs_under_the_csp(sign_in, web, alice):
    from playwright.sync_api import expect

    page = sign_in(alice)
    violations = watch(page)

    page.goto(f"{web.url}/jobs/new/")
    page.get_by_label("grading-db").check()

    expect(page.locator("#live-impacted")).to_contain_text("grading-api")
    assert violations == []

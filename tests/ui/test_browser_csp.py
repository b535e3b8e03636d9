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


# The main pages as an administrator sees them (every link and panel shown).
MAIN_PAGES = [
    "/",
    "/jobs/",
    "/jobs/{job}/",
    "/reviews/",
    "/deadlines/",
    "/deadlines/feeds/",
    "/blackouts/",
    "/systems/",
    "/feed-tokens/",
    "/api-tokens/",
    "/teams/infra-dba/webhook/",
    "/admin/",
]


@pytest.mark.parametrize("path", MAIN_PAGES)
def test_the_main_pages_load_with_no_csp_violation(sign_in, web, org, pat, alice, path):
    from tests import builders

    job = builders.job(by=alice, owner=org["infra"], title="Reindex")
    page = sign_in(pat)
    violations = watch(page)

    answer = page.goto(web.url + path.format(job=job.pk))
    page.wait_for_load_state("networkidle")

    assert answer.status == 200
    assert violations == []

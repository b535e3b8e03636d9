"""Fixtures for the page tests: the organisation, its people, and a browser.

The people are the demo's personas: alice books for infra, bob reviews for
grading, carol publishes deadlines for curriculum, pat administers.
"""

import os
import shutil
from pathlib import Path

import pytest
from django.test import Client

from tests import builders

CHROMIUM = os.environ.get("CLEARWAY_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture
def org(db, settings):
    infra = builders.team("infra-dba", name="Infrastructure & DBA")
    grading = builders.team("grading", name="Grading")
    curriculum = builders.team("curriculum", name="Curriculum")
    platform = builders.team(settings.CLEARWAY_ADMIN_TEAM, name="Platform")
    builders.system("grading-db", owner=infra)
    builders.system("grading-api", owner=grading, depends_on=["grading-db"])
    builders.system("submissions-web", owner=grading, depends_on=["grading-api"])
    builders.system("lms-web", owner=platform)
    return {"infra": infra, "grading": grading, "curriculum": curriculum, "platform": platform}


@pytest.fixture
def alice(org):
    return builders.user("alice", team=org["infra"])


@pytest.fixture
def bob(org):
    return builders.user("bob", team=org["grading"])


@pytest.fixture
def carol(org):
    return builders.user("carol", team=org["curriculum"])


@pytest.fixture
def pat(org):
    """An administrator: staff, in the administrators' team."""
    return builders.user("pat", team=org["platform"], staff=True)


@pytest.fixture
def outsider(org):
    """Signed in, in no team."""
    return builders.user("olly")


def client_for(person) -> Client:
    client = Client()
    client.force_login(person)
    return client


# --- the browser -----------------------------------------------------------


def chromium_path() -> str | None:
    if Path(CHROMIUM).exists():
        return CHROMIUM
    return shutil.which("chromium")


@pytest.fixture(scope="session")
def browser():
    path = chromium_path()
    if path is None:
        pytest.skip(
            f"No Chromium at {CHROMIUM}: `apt-get install -y chromium` to run browser tests"
        )
    # Playwright's sync API runs an event loop in this thread; Django's ORM in
    # the test itself would otherwise refuse to run next to it.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=path, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def web(settings, live_server):
    """The live server, with cookies a plain-http browser keeps."""
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    settings.ALLOWED_HOSTS = ["*"]
    return live_server


@pytest.fixture
def sign_in(browser, web):
    """sign_in(user) -> a Playwright page signed in as `user`, in its own context."""
    contexts = []

    def open_page(person, *, width: int = 1280, height: int = 900):
        context = browser.new_context(viewport={"width": width, "height": height})
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.goto(f"{web.url}/accounts/login/")
        page.get_by_label("Username").fill(person.get_username())
        page.get_by_label("Password").fill("pw")
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{web.url}/")
        return page

    yield open_page
    for context in contexts:
        context.close()

"""Info: a Content Security Policy on every page, and no-store where a secret shows.

Scripts run only from Clearway's own files (or with the request's nonce):
the pages and Swagger UI carry no inline script, so a stored XSS that slipped
past escaping still could not run. Answers that show a secret (a new token,
a feed URL with its LMS token, a team's webhook) say `Cache-Control: no-store`.
"""

import re

import pytest
from django.test import Client

from tests import builders
from tests.personas import as_user

pytestmark = pytest.mark.django_db

PAGES = [
    "/",
    "/jobs/",
    "/jobs/new/",
    "/reviews/",
    "/systems/",
    "/feed-tokens/",
    "/blackouts/",
    "/deadlines/",
    "/deadlines/feeds/",
    "/api/docs/",
    "/admin/",
]
# An inline script the browser would run: no src, no nonce, not JSON data (json_script).
INLINE_SCRIPT = re.compile(
    r"<script(?![^>]*\bsrc=)(?![^>]*\bnonce=)(?![^>]*application/json)[^>]*>", re.IGNORECASE
)


def signed_in(person) -> Client:
    client = Client()
    client.force_login(person)
    return client


@pytest.mark.parametrize("path", PAGES)
def test_every_page_has_a_csp_without_inline_scripts(admin, path):
    admin.is_superuser = True
    admin.save(update_fields=["is_superuser"])

    answer = signed_in(admin).get(path)

    assert answer.status_code == 200, path
    policy = answer["Content-Security-Policy"]
    script_src = re.search(r"script-src ([^;]*)", policy).group(1)
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    assert not INLINE_SCRIPT.search(answer.content.decode()), path


def test_swagger_ui_loads_its_start_up_script_from_clearway(admin):
    page = signed_in(admin).get("/api/docs/").content.decode()
    [script] = re.findall(r'<script src="([^"]*\?script[^"]*)"', page)

    answer = signed_in(admin).get(script.replace("&amp;", "&"))

    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("application/javascript")


def test_the_login_page_has_a_csp_too():
    assert "script-src" in Client().get("/accounts/login/")["Content-Security-Policy"]


def no_store(answer) -> bool:
    return "no-store" in answer.get("Cache-Control", "")


def test_a_new_api_token_is_not_stored_by_caches(requester):
    answer = as_user(requester).post(
        "/api/v1/api-tokens",
        {"name": "ci", "team": "infra", "scopes": ["gate:read"]},
        format="json",
    )

    assert answer.status_code == 201 and no_store(answer)


def test_a_new_feed_token_is_not_stored_by_caches(requester):
    answer = as_user(requester).post("/api/v1/feed-tokens", {"name": "phone"}, format="json")

    assert answer.status_code == 201 and no_store(answer)


def test_feed_urls_and_webhooks_are_not_stored_by_caches(curriculum_staff):
    feeds = as_user(curriculum_staff).get("/api/v1/deadline-feeds")
    teams = as_user(curriculum_staff).get("/api/v1/teams")
    page = signed_in(curriculum_staff).get("/deadlines/feeds/")
    tokens = signed_in(curriculum_staff).get("/feed-tokens/")

    assert all(no_store(answer) for answer in (feeds, teams, page, tokens))


def test_a_rotated_webhook_secret_from_the_api_is_not_stored_by_caches(requester):
    answer = as_user(requester).post("/api/v1/teams/infra/webhook-secret")

    assert answer.status_code == 201 and no_store(answer)


def test_the_team_webhook_page_showing_a_new_secret_is_not_stored_by_caches(requester):
    answer = signed_in(requester).post("/teams/infra/webhook/")

    assert answer.status_code == 200 and no_store(answer)


def test_the_api_token_page_showing_a_new_secret_is_not_stored_by_caches(requester):
    answer = signed_in(requester).post(
        "/api-tokens/", {"name": "ci", "team": "infra", "scopes": ["gate:read"]}
    )

    assert answer.status_code == 200 and b"cw_" in answer.content and no_store(answer)


def test_ordinary_answers_are_not_marked(requester):
    builders.job(by=requester)

    assert not no_store(as_user(requester).get("/api/v1/jobs"))

"""The shared cache down: throttles and sign-in limits cannot be counted, so the
answer is 503 with Retry-After, quickly, never a 500 and never "let through"."""

import time

import pytest
from django.core.cache import caches
from django.test import Client

from config.shared_state import caches_for
from tests.ci.clients import bearer, token_for

pytestmark = pytest.mark.django_db

# Nothing listens on port 1: every connection is refused at once.
DOWN = "redis://127.0.0.1:1/0"


@pytest.fixture
def redis_down(settings):
    settings.CACHES = caches_for(
        url=DOWN, feed_cache=settings.CLEARWAY_FEED_CACHE, feed_entries=100
    )
    yield
    caches.close_all()


def test_a_ci_call_is_a_503_with_retry_after_when_the_shared_cache_is_down(org, clock, redis_down):
    client = bearer(token_for(org["infra"]))

    started = time.monotonic()
    response = client.get("/api/v1/state?systems=grading-db")

    assert response.status_code == 503
    assert response["Retry-After"].isdigit()
    assert response.json()["code"] == "busy"
    assert time.monotonic() - started < 2


def test_a_sign_in_is_a_503_not_a_500_and_not_let_through_when_the_shared_cache_is_down(
    requester, redis_down
):
    browser = Client()

    response = browser.post(
        "/accounts/login/", {"username": "alice", "password": "pw"}, REMOTE_ADDR="10.0.0.7"
    )

    assert response.status_code == 503
    assert response["Retry-After"].isdigit()
    assert "_auth_user_id" not in browser.session


def test_readyz_says_the_shared_cache_is_down(clock, redis_down):
    response = Client().get("/readyz")

    assert response.status_code == 503
    assert response.json()["cache"] == "error: ConnectionError"

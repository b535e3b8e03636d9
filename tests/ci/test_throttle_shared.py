"""With CACHE_URL, a token's rate limit is one count for every process."""

import threading

import pytest

from scheduling.api.throttles import TokenRateThrottle
from tests.ci.clients import bearer, token_for
from tests.redis_cache import redis_caches

STATE = "/api/v1/state?systems=grading-db"


def in_another_process(work):
    """Run `work` in a thread: Django gives each thread its own cache clients, so
    its Redis connection is not this thread's, as in a second worker."""
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("value", work()))
    thread.start()
    thread.join(timeout=30)
    return result["value"]


@pytest.mark.django_db(transaction=True)
def test_with_cache_url_a_tokens_requests_count_once_across_processes(
    org, clock, settings, monkeypatch
):
    monkeypatch.setattr(TokenRateThrottle, "THROTTLE_RATES", {"ci": "3/min"})
    with redis_caches(settings):
        secret = token_for(org["infra"])
        here = [bearer(secret).get(STATE).status_code for _ in range(2)]
        there = in_another_process(
            lambda: [bearer(secret).get(STATE).status_code for _ in range(2)]
        )

    assert here + there == [200, 200, 200, 429]

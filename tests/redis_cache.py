"""Point the test's caches at the local Redis, the way CACHE_URL does in production."""

import os
from contextlib import contextmanager

import pytest
from axes.handlers.proxy import AxesProxyHandler
from django.core.cache import caches

from config.shared_state import caches_for

# The tests' own Redis database; the topology test uses the next one.
TEST_REDIS_URL = os.environ.get("CLEARWAY_TEST_REDIS_URL", "redis://127.0.0.1:6379/4")


def redis_keys(url: str = TEST_REDIS_URL) -> list[bytes]:
    """Every key in the test's Redis database, read by a client of its own."""
    import redis

    return redis.Redis.from_url(url).keys("*")


def redis_reachable(url: str = TEST_REDIS_URL) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@contextmanager
def redis_caches(settings, url: str = TEST_REDIS_URL):
    """Every cache alias in one Redis database, emptied before and after."""
    if not redis_reachable(url):
        pytest.skip(f"needs Redis at {url} (set CLEARWAY_TEST_REDIS_URL)")
    settings.CACHES = caches_for(
        url=url, feed_cache=settings.CLEARWAY_FEED_CACHE, feed_entries=1000
    )
    AxesProxyHandler.implementation = None  # built again on the Redis cache
    caches["default"].clear()
    try:
        yield
    finally:
        caches["default"].clear()
        AxesProxyHandler.implementation = None

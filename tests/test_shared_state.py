"""CACHE_URL and CLEARWAY_TRUSTED_PROXIES: shared caches, and a bad value stops the process."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.shared_state import caches_for, trusted_proxies
from tests.test_settings_env import import_settings

FEEDS = "calendar-feeds"


def test_without_cache_url_every_cache_is_per_process_memory():
    caches = caches_for(url="", feed_cache=FEEDS, feed_entries=500)

    assert {c["BACKEND"] for c in caches.values()} == {
        "django.core.cache.backends.locmem.LocMemCache"
    }
    assert caches[FEEDS]["OPTIONS"]["MAX_ENTRIES"] == 500


def test_with_cache_url_every_cache_is_the_redis_with_its_own_prefix():
    caches = caches_for(url="redis://127.0.0.1:6379/3", feed_cache=FEEDS, feed_entries=500)

    assert set(caches) == {"default", FEEDS}
    assert {c["BACKEND"] for c in caches.values()} == {
        "django.core.cache.backends.redis.RedisCache"
    }
    assert {c["LOCATION"] for c in caches.values()} == {"redis://127.0.0.1:6379/3"}
    assert caches["default"]["KEY_PREFIX"] != caches[FEEDS]["KEY_PREFIX"]


@pytest.mark.parametrize(
    "url",
    [
        "rediss://:secret@cache.internal:6380/0",
        "redis://127.0.0.1",
        "unix:///run/redis.sock",
    ],
)
def test_redis_urls_are_accepted(url):
    assert caches_for(url=url, feed_cache=FEEDS, feed_entries=500)["default"]["LOCATION"] == url


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("memcached://127.0.0.1:11211", "scheme"),
        ("127.0.0.1:6379", "scheme"),
        ("redis://", "host"),
        ("redis://127.0.0.1:99999/0", "port"),
        ("redis://127.0.0.1:6379/cache", "database number"),
    ],
)
def test_a_bad_cache_url_is_refused_with_the_reason(url, says):
    with pytest.raises(ImproperlyConfigured) as excinfo:
        caches_for(url=url, feed_cache=FEEDS, feed_entries=500)

    assert "CACHE_URL" in str(excinfo.value)
    assert says in str(excinfo.value).lower()


def test_settings_refuse_to_load_with_a_bad_cache_url():
    result = import_settings(CACHE_URL="memcached://127.0.0.1:11211")

    assert result.returncode != 0
    assert "CACHE_URL" in result.stderr


def test_settings_refuse_to_load_with_a_bad_trusted_proxy():
    result = import_settings(CLEARWAY_TRUSTED_PROXIES="10.0.0.0/8,the-load-balancer")

    assert result.returncode != 0
    assert "CLEARWAY_TRUSTED_PROXIES" in result.stderr


def test_trusted_proxies_read_addresses_and_networks():
    assert [str(n) for n in trusted_proxies(["10.0.0.1", "fd00::/8", "192.168.1.0/24"])] == [
        "10.0.0.1/32",
        "fd00::/8",
        "192.168.1.0/24",
    ]

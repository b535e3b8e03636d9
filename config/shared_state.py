"""Where state shared between processes lives: the caches, and who the client is.

Throttles, sign-in limits and the feed caches must count the same on every
worker and every app machine, or a limit of 10 becomes 10 per process. With
`CACHE_URL` set they all live in one Redis; without it each process keeps its
own memory, which is right for `make run` (one process) and nothing else.
"""

import ipaddress
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

REDIS_SCHEMES = {"redis", "rediss", "unix"}
FEED_CACHE_TIMEOUT = 7 * 24 * 3600
REDIS_TIMEOUT = 0.5  # seconds to connect, and for each answer


def caches_for(*, url: str, feed_cache: str, feed_entries: int) -> dict:
    """Django's CACHES: Redis when `url` is given, per-process memory otherwise."""
    if not url:
        return {
            "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
            feed_cache: {
                "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                "LOCATION": "clearway-calendar-feeds",
                "TIMEOUT": FEED_CACHE_TIMEOUT,
                "OPTIONS": {"MAX_ENTRIES": feed_entries, "CULL_FREQUENCY": 4},
            },
        }
    _check_redis_url(url)
    redis = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": url,
        # A Redis that hangs must not hang requests: they fail fast (503, see
        # scheduling/db.py) instead of holding a worker.
        "OPTIONS": {"socket_connect_timeout": REDIS_TIMEOUT, "socket_timeout": REDIS_TIMEOUT},
    }
    # Both aliases share the Redis database; the prefix keeps the feed texts
    # apart so that clearing one cache in a test or an incident spares the other.
    # Redis evicts by its own maxmemory policy, so MAX_ENTRIES has no meaning here.
    return {
        "default": {**redis, "KEY_PREFIX": "clearway"},
        feed_cache: {**redis, "KEY_PREFIX": "clearway-feeds", "TIMEOUT": FEED_CACHE_TIMEOUT},
    }


def _check_redis_url(url: str) -> None:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ImproperlyConfigured(f"CACHE_URL is not a valid URL ({exc}): {url!r}") from None
    if parts.scheme not in REDIS_SCHEMES:
        raise ImproperlyConfigured(
            "CACHE_URL must be a Redis URL such as redis://127.0.0.1:6379/0 "
            f"(schemes {', '.join(sorted(REDIS_SCHEMES))}); got scheme {parts.scheme!r}"
        )
    if parts.scheme != "unix" and not parts.hostname:
        raise ImproperlyConfigured(f"CACHE_URL names no host: {url!r}")
    if port is not None and not 0 < port < 65536:
        raise ImproperlyConfigured(f"CACHE_URL has an invalid port: {url!r}")
    database = "" if parts.scheme == "unix" else parts.path.strip("/")
    if database and not database.isdecimal():
        raise ImproperlyConfigured(
            f"CACHE_URL's path must be a Redis database number such as /0; got {parts.path!r}"
        )


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def trusted_proxies(raw: list[str]) -> tuple[Network, ...]:
    """CLEARWAY_TRUSTED_PROXIES as networks; a bad entry stops the process."""
    networks = []
    for item in raw:
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                "CLEARWAY_TRUSTED_PROXIES must list addresses or CIDRs such as "
                f"10.0.0.0/8; got {item!r}"
            ) from None
    return tuple(networks)

"""A short-lived, per-process cache of live API tokens, keyed by digest.

Looking a token up costs an ORM query per request, which dominated the hot
gate. An entry is kept for CLEARWAY_TOKEN_CACHE_SECONDS (0 turns it off), so a
revocation, an expiry change or a deleted team reaches every process within
that many seconds; in the process that makes the change through the ORM (the
revoke service, the admin, deleting a team, a team edit that removes a token's
maker) it takes effect at once. Expiry
itself is checked on every request against the cached value, so a token is
refused exactly at its expiry instant whatever the cache holds.
"""

import copy
import threading
from collections import OrderedDict
from datetime import datetime, timedelta

from django.conf import settings

from scheduling.models import ApiToken

MAXSIZE = 4096

_lock = threading.Lock()
# digest -> (token with team and user loaded, when it was read from the database)
_items: OrderedDict[str, tuple[ApiToken, datetime]] = OrderedDict()


def lifetime() -> timedelta:
    return timedelta(seconds=settings.CLEARWAY_TOKEN_CACHE_SECONDS)


def get(wanted: str, *, now: datetime) -> ApiToken | None:
    """A private copy of the cached token for `wanted`, if read less than `lifetime()` ago."""
    ttl = lifetime()
    if not ttl:
        return None
    with _lock:
        entry = _items.get(wanted)
        if entry is None:
            return None
        token, read_at = entry
        # A clock that went backwards (a test's travel) also invalidates.
        if not (read_at <= now < read_at + ttl):
            del _items[wanted]
            return None
    # Callers set last_used on what they get; the cached original stays as read.
    return copy.copy(token)


def put(wanted: str, token: ApiToken, *, now: datetime) -> None:
    if not lifetime():
        return
    with _lock:
        _items[wanted] = (copy.copy(token), now)
        _items.move_to_end(wanted)
        if len(_items) > MAXSIZE:
            _items.popitem(last=False)


def note_used(wanted: str, used: datetime) -> None:
    """Remember a last_used write so other requests in the window do not repeat it."""
    with _lock:
        entry = _items.get(wanted)
        if entry is not None:
            entry[0].last_used = used


def forget(*, token_id: int) -> None:
    """Drop a token at once in this process (revoked here)."""
    with _lock:
        for key in [k for k, (t, _) in _items.items() if t.pk == token_id]:
            del _items[key]


def clear() -> None:
    with _lock:
        _items.clear()


def forget_saved(sender, instance: ApiToken, **kwargs) -> None:
    """Connected to ApiToken's post_save and post_delete (admin edits, cascades)."""
    forget(token_id=instance.pk)

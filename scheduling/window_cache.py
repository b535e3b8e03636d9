"""A process-local cache for busy windows, keyed by the calendar version.

Every key starts with the version read from the database on the same request,
so an entry can never be served after a change: a new change makes a new key
and old entries age out of the LRU. Values are plain immutable objects kept as
they are (no pickling), which is what makes the gate as cheap as a constant.
"""

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import UTC, datetime, time, timedelta
from typing import TypeVar

from django.conf import settings

from scheduling.engine import FAR_FUTURE

T = TypeVar("T")


class VersionedCache:
    def __init__(self, *, maxsize: int = 1024) -> None:
        self._items: OrderedDict[Hashable, object] = OrderedDict()
        self._lock = threading.Lock()
        self._maxsize = maxsize

    def get_or_compute(self, key: Hashable, compute: Callable[[], T]) -> T:
        if not enabled():
            return compute()
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]  # type: ignore[return-value]
        value = compute()
        with self._lock:
            self._items[key] = value
            if len(self._items) > self._maxsize:
                self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def enabled() -> bool:
    """Whether per-process caches are on (CLEARWAY_PROCESS_CACHES); nothing needs them."""
    return settings.CLEARWAY_PROCESS_CACHES


def day_bucket(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """Widen [start, end) to whole UTC days so nearby questions share an entry."""
    lo = datetime.combine(start.astimezone(UTC).date(), time.min, tzinfo=UTC)
    if end >= FAR_FUTURE - timedelta(days=2):
        return lo, FAR_FUTURE
    hi = datetime.combine(end.astimezone(UTC).date(), time.min, tzinfo=UTC) + timedelta(days=1)
    return lo, hi


windows = VersionedCache(maxsize=2048)
closures = VersionedCache(maxsize=4096)
jobs = VersionedCache(maxsize=8192)
# Whole answers (checks, state, slots) for CI that polls the same question.
answers = VersionedCache(maxsize=4096)

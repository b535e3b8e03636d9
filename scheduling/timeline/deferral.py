"""Whether range refreshes are being gathered for one bulk pass (`bulk.timeline_deferred`).

A thread-local list of `(start, end, systems, kinds)` while a block defers,
None otherwise; kept apart so both `services` and `bulk` can ask.
"""

import threading

_state = threading.local()


def pending() -> list | None:
    return getattr(_state, "pending", None)


def start() -> list:
    _state.pending = []
    return _state.pending


def stop() -> None:
    _state.pending = None

"""One calendar change for a bulk write: a feed sync or an upload of thousands of deadlines.

Inside `calendar_batch()`, `calendar_changed` only gathers its window; when
the block ends (still inside the caller's transaction) the batch records ONE
calendar-change row, refreshes the timeline in one pass over each system's
own merged windows, and queues ONE re-evaluation task over those windows.
Recording and queueing per deadline cost a row, a task and a timeline pass
each: minutes for 5,000.
"""

import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

_batch = threading.local()


@dataclass
class Window:
    start: datetime
    end: datetime
    systems: set[str] | None  # None: every system


@dataclass
class Batch:
    reason: str
    windows: list[Window] = field(default_factory=list)
    kinds: set[str] = field(default_factory=set)
    reasons: int = 0


def active_batch() -> Batch | None:
    return getattr(_batch, "current", None)


@contextmanager
def calendar_batch(*, reason: str):
    """Gather the calendar changes made inside and record them once when it ends.

    Nested batches join the outermost. On an error nothing is recorded or
    queued (the caller's transaction rolls back anyway).
    """
    if active_batch() is not None:
        yield
        return
    batch = Batch(reason=reason)
    _batch.current = batch
    try:
        yield
    finally:
        _batch.current = None
    if batch.windows:
        from scheduling.services.calendar import calendar_changed_windows

        calendar_changed_windows(
            windows=batch.windows,
            kinds=batch.kinds,
            reason=f"{reason} ({batch.reasons:,} changes)",
        )

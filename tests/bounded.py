"""Bounded-work asserts: count the work done, not the seconds it took.

A wall-clock bound fails on a loaded machine (two cores shared by a whole
test run under xdist) and passes on a fast one for the wrong reason. What
the guards in scheduling.recurrence bound is how far dateutil walks, so the
tests count that: every period dateutil steps through asks its `_iterinfo`
for that period's days (and, below a day, its times), once per step.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from unittest import mock

from dateutil import rrule

_STEPS = ("ydayset", "mdayset", "wdayset", "ddayset", "htimeset", "mtimeset", "stimeset")


@dataclass
class Steps:
    count: int = 0


@contextmanager
def rule_steps() -> Iterator[Steps]:
    """Count the periods dateutil steps through inside the block."""
    steps = Steps()
    patches = []
    for name in _STEPS:
        original = getattr(rrule._iterinfo, name)

        def counting(self, *args, _original=original):
            steps.count += 1
            return _original(self, *args)

        patches.append(mock.patch.object(rrule._iterinfo, name, counting))
    for patch in patches:
        patch.start()
    try:
        yield steps
    finally:
        for patch in reversed(patches):
            patch.stop()

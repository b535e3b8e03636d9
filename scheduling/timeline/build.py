"""Pure helpers: busy windows in, timeline rows (as plain dicts) out.

No ORM here, so the step function is tested like the engine: on plain values.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from scheduling.engine import FAR_FUTURE, BusyWindow

# Stands in for "since always": the lower end of a gap before the first
# allowed window, or of the freeze row (which starts where the query starts).
FLOOR = datetime(1900, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Step:
    """A maximal run of one set of deadline windows on one system."""

    start: datetime
    end: datetime
    windows: tuple[BusyWindow, ...]

    @property
    def load(self) -> int:
        return sum(w.load for w in self.windows)


def _source_order(window: BusyWindow) -> tuple:
    kind, _, ident = window.source.partition(":")
    return (window.start, kind, int(ident) if ident.isdecimal() else 0, ident)


def traffic_steps(
    windows: Iterable[BusyWindow], *, system: str, start: datetime, end: datetime
) -> list[Step]:
    """The load function of `system` inside [start, end) as maximal constant runs.

    A run ends wherever the set of deadlines covering it changes, even if the
    summed load stays the same: each step then names exactly the deadlines
    behind it, and a step computed over a sub-range equals the full one's.
    """
    edges: dict[datetime, list[tuple[bool, BusyWindow]]] = defaultdict(list)
    for window in windows:
        if window.systems and system not in window.systems:
            continue
        lo, hi = max(window.start, start), min(window.end, end)
        if lo >= hi:
            continue
        edges[lo].append((True, window))
        edges[hi].append((False, window))
    steps: list[Step] = []
    active: dict[str, BusyWindow] = {}
    previous: datetime | None = None
    for instant in sorted(edges):
        if previous is not None and active:
            members = tuple(sorted(active.values(), key=_source_order))
            if steps and steps[-1].end == previous and steps[-1].windows == members:
                steps[-1] = Step(steps[-1].start, instant, members)
            else:
                steps.append(Step(previous, instant, members))
        for opens, window in edges[instant]:
            if opens:
                active[window.source] = window
            else:
                active.pop(window.source, None)
        previous = instant
    return steps


def deadline_detail(window: BusyWindow) -> list:
    """A deadline window as stored in a step's detail (enough to rebuild it)."""
    return [
        window.source,
        window.start.isoformat(),
        window.end.isoformat(),
        window.load,
        window.title,
        window.message,
        window.url,
        window.team,
    ]


def deadline_from_detail(item: Sequence, systems: frozenset[str]) -> BusyWindow:
    source, start, end, load, title, message, url, team = item
    return BusyWindow(
        kind="deadline",
        start=datetime.fromisoformat(start),
        end=datetime.fromisoformat(end),
        systems=systems,
        title=title,
        source=source,
        url=url,
        team=team,
        load=load,
        message=message,
    )


def gaps(
    allowed: Sequence[tuple[datetime, datetime]],
    *,
    start: datetime = FLOOR,
    end: datetime = FAR_FUTURE,
) -> list[tuple[datetime, datetime]]:
    """The complement of sorted `allowed` windows inside [start, end)."""
    found = []
    cursor = start
    for lo, hi in sorted(allowed):
        if lo > cursor:
            found.append((cursor, min(lo, end)))
        cursor = max(cursor, hi)
        if cursor >= end:
            break
    if cursor < end:
        found.append((cursor, end))
    return found


def merge(
    intervals: list[tuple[datetime, datetime]], *, slack: timedelta = timedelta(0)
) -> list[tuple[datetime, datetime]]:
    """Overlapping or touching intervals as one; with `slack`, also those that close."""
    intervals = sorted(intervals)
    merged: list[tuple[datetime, datetime]] = []
    for lo, hi in intervals:
        if merged and lo <= merged[-1][1] + slack:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged

"""Timeline refreshes for bulk writes: many changed windows in one pass.

A feed sync moves thousands of deadlines, each on a few systems. Refreshing
the union of their windows on the union of their systems rewrote every
system's traffic over the whole span; here each system's traffic is rewritten
only over its own merged windows (widened, as `timeline_refresh_range` does,
to the steps they touch), with one read of the steps and of the deadlines.
"""

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable
from contextlib import contextmanager
from datetime import datetime

from scheduling.choices import FindingKind
from scheduling.models import TimelineInterval, TimelineKind
from scheduling.timeline import deferral
from scheduling.timeline.build import merge
from scheduling.timeline.services import (
    RANGE_KINDS,
    _insert,
    _slug_ids,
    _source_windows,
    _traffic_rows,
    timeline_refresh_range,
)

ChangedWindow = tuple[datetime, datetime, Iterable[str] | None]


def per_system(windows: Iterable[ChangedWindow]) -> dict[str | None, list[tuple]]:
    """Each system's changed windows merged (None: the windows on every system)."""
    spans: dict[str | None, list[tuple]] = defaultdict(list)
    for start, end, systems in windows:
        if start >= end:
            continue
        for slug in [None] if systems is None else set(systems):
            spans[slug].append((start, end))
    return {slug: merge(found) for slug, found in spans.items()}


@contextmanager
def timeline_deferred():
    """Gather the range refreshes made inside, and run them once when it ends.

    For bulk writes in one transaction (a feed sync of thousands of
    deadlines): one pass over every system's own merged windows costs far
    less than one refresh per deadline. Still inside the caller's
    transaction; on an error nothing is refreshed, and the transaction rolls
    back anyway.
    """
    if deferral.pending() is not None:
        yield  # already deferring: the outermost block refreshes
        return
    gathered = deferral.start()
    try:
        yield
    finally:
        deferral.stop()
    by_kind: dict[str, list[ChangedWindow]] = defaultdict(list)
    for start, end, systems, kinds in gathered:
        for kind in kinds:
            by_kind[kind].append((start, end, systems))
    for kind, windows in by_kind.items():
        timeline_refresh_windows(windows=windows, kinds=(kind,))


def timeline_refresh_windows(
    *, windows: Iterable[ChangedWindow], kinds: Iterable[str] = RANGE_KINDS
) -> None:
    """Rewrite the blackout and traffic rows under many changed windows, system by system."""
    kinds = set(kinds) & set(RANGE_KINDS)
    spans = per_system(windows)
    if not kinds or not spans:
        return
    if (pending := deferral.pending()) is not None:
        for slug, found in spans.items():
            systems = None if slug is None else [slug]
            pending.extend((start, end, systems, kinds) for start, end in found)
        return
    if FindingKind.BLACKOUT in kinds:
        for slug, found in spans.items():
            for start, end in found:
                timeline_refresh_range(
                    start=start,
                    end=end,
                    systems=None if slug is None else [slug],
                    kinds=(FindingKind.BLACKOUT,),
                )
    if FindingKind.DEADLINE in kinds:
        _refresh_traffic(spans)


def _refresh_traffic(spans: dict[str | None, list[tuple]]) -> None:
    ids = _slug_ids()
    every = spans.get(None, [])
    ranges = {
        ids[slug]: merge([*spans.get(slug, []), *every])
        for slug in (ids if every else [s for s in spans if s in ids])
    }
    if not ranges:
        return
    low = min(lo for found in ranges.values() for lo, _ in found)
    high = max(hi for found in ranges.values() for _, hi in found)
    steps: dict[int, list[tuple]] = defaultdict(list)
    for origin, pk, start, end in (
        TimelineInterval.objects.filter(
            kind=TimelineKind.TRAFFIC, origin_id__in=list(ranges), start__lte=high, end__gte=low
        )
        .order_by("origin_id", "start")
        .values_list("origin_id", "pk", "start", "end")
    ):
        steps[origin].append((pk, start, end))
    doomed: set[int] = set()
    widened = {}
    for origin, found in ranges.items():
        own = steps[origin]
        starts = [start for _, start, _ in own]
        widened[origin] = merge([_widen(lo, hi, own, starts, doomed) for lo, hi in found])
    doomed_ids = sorted(doomed)
    for at in range(0, len(doomed_ids), 1000):
        TimelineInterval.objects.filter(pk__in=doomed_ids[at : at + 1000]).delete()
    slugs = {pk: slug for slug, pk in ids.items()}
    low = min(lo for found in widened.values() for lo, _ in found)
    high = max(hi for found in widened.values() for _, hi in found)
    windows = _source_windows(start=low, end=high, systems=frozenset(slugs[o] for o in widened))
    deadlines: dict[str, list] = defaultdict(list)
    for window in windows:
        if window.kind == FindingKind.DEADLINE:
            for slug in window.systems or slugs.values():
                deadlines[slug].append(window)
    rows = []
    for origin, found in sorted(widened.items()):
        slug = slugs[origin]
        for lo, hi in found:
            rows.extend(_traffic_rows(deadlines[slug], slug=slug, origin=origin, start=lo, end=hi))
    _insert(rows)


def _widen(
    lo: datetime, hi: datetime, steps: list[tuple], starts: list[datetime], doomed: set[int]
) -> tuple:
    """[lo, hi) grown to the steps touching it, which are doomed (a system's steps never
    overlap, so they are the ones just before `hi` that end at or after `lo`)."""
    at = bisect_right(starts, hi)
    while at > 0 and steps[at - 1][2] >= lo:
        pk, start, end = steps[at - 1]
        lo, hi = min(lo, start), max(hi, end)
        doomed.add(pk)
        at -= 1
    return lo, hi

"""Timeline rows read once for many questions: the batch re-evaluation's read.

A calendar change under thousands of jobs must not read the timeline once per
job. `read_spans` reads, for each system, the rows overlapping that system's
merged spans (the windows of every job that looks at it) and the all-systems
rows, in a few queries; `RowSet.windows` then answers each job from memory by
the same rule as one question (`selectors.windows_from`).
"""

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Q

from scheduling.engine import BusyWindow
from scheduling.models import TimelineInterval
from scheduling.timeline.build import merge
from scheduling.timeline.selectors import FIELDS as ROW_FIELDS
from scheduling.timeline.selectors import windows_from

# Spans of one system closer than this are read as one: a few more rows, far
# fewer ranges to send.
SLACK = timedelta(days=1)
# Ranges per query on SQLite, which parses a chain of ORs as a tree that deep.
CHUNK = 200
# Rows longer than this (a freeze, a long gap between allowed windows) are
# kept apart and scanned whole; the rest are found by bisecting on start.
LONG = timedelta(days=7)

_FIELDS = ("id", *ROW_FIELDS)
_START, _END = 1 + ROW_FIELDS.index("start"), 1 + ROW_FIELDS.index("end")

# Each (system, span) through the system's own GiST scan, as `selectors._rows`.
_SPANS = (
    '"scheduling_timelineinterval"."id" = ANY(ARRAY('
    "SELECT r.id FROM unnest(%s::bigint[], %s::timestamptz[], %s::timestamptz[]) "
    "AS w(origin, lo, hi) CROSS JOIN LATERAL ("
    "SELECT i.id FROM scheduling_timelineinterval i WHERE i.origin_id = w.origin "
    "AND tstzrange(i.start, i.\"end\", '[)') && tstzrange(w.lo, w.hi, '[)')) AS r))"
)


class RowSet:
    """Rows per system (None: all systems), searchable by range."""

    def __init__(self, rows: Iterable[tuple]):
        short: dict[int | None, list[tuple]] = defaultdict(list)
        self._long: dict[int | None, list[tuple]] = defaultdict(list)
        for row in rows:
            origin = row[1]
            (self._long if row[_END] - row[_START] > LONG else short)[origin].append(row)
        self._short = {}
        for origin, found in short.items():
            found.sort(key=lambda r: (r[_START], r[0]))
            self._short[origin] = ([r[_START] for r in found], found)

    def overlapping(self, origins: Iterable[int], start: datetime, end: datetime) -> list[tuple]:
        """The rows (without ids) on `origins` or on every system overlapping [start, end)."""
        found = []
        for origin in [*origins, None]:
            starts, rows = self._short.get(origin, ((), ()))
            # A short row that ends after `start` began at most LONG before it.
            lo, hi = bisect_left(starts, start - LONG), bisect_left(starts, end)
            found.extend(r[1:] for r in rows[lo:hi] if r[_END] > start)
            found.extend(
                r[1:] for r in self._long.get(origin, ()) if r[_START] < end and r[_END] > start
            )
        return found

    def windows(
        self,
        *,
        where: frozenset[str],
        ids: dict[int, str],
        start: datetime,
        end: datetime,
        exclude_job_id: int | None = None,
    ) -> list[BusyWindow]:
        """What `selectors.windows` answers for the same question, from the rows read."""
        return windows_from(
            self.overlapping(ids, start, end),
            where=where,
            ids=ids,
            start=start,
            end=end,
            exclude_job_id=exclude_job_id,
        )


def read_spans(*, spans: dict[int, list[tuple[datetime, datetime]]]) -> RowSet:
    """Every row overlapping each system's spans, and the all-systems rows overlapping any.

    Every row the questions behind `spans` need is among them (more may be).
    """
    ranges = [
        (origin, lo, hi)
        for origin, found in sorted(spans.items())
        for lo, hi in merge(sorted(found), slack=SLACK)
    ]
    if not ranges:
        return RowSet([])
    rows: dict[int, tuple] = {}
    everywhere = TimelineInterval.objects.filter(
        origin__isnull=True,
        start__lt=max(hi for _, _, hi in ranges),
        end__gt=min(lo for _, lo, _ in ranges),
    )
    rows.update((row[0], row) for row in everywhere.values_list(*_FIELDS))
    if connection.vendor == "postgresql":
        query = TimelineInterval.objects.extra(  # noqa: S610 - constant SQL, values as parameters
            where=[_SPANS],
            params=[
                [o for o, _, _ in ranges],
                [lo for _, lo, _ in ranges],
                [hi for _, _, hi in ranges],
            ],
        )
        rows.update((row[0], row) for row in query.values_list(*_FIELDS))
    else:
        for at in range(0, len(ranges), CHUNK):
            condition = Q()
            for origin, lo, hi in ranges[at : at + CHUNK]:
                condition |= Q(origin_id=origin, start__lt=hi, end__gt=lo)
            query = TimelineInterval.objects.filter(condition)
            rows.update((row[0], row) for row in query.values_list(*_FIELDS))
    return RowSet(rows.values())

"""What a calendar feed source answers, and the base class the three sources share.

A source (listed in settings.CLEARWAY_FEED_SOURCES) publishes one feed
(`maintenance`, `blackouts` or `deadlines`). It answers four questions about
the rows a FeedQuery selects: a cheap `state` (count and newest change, for the
ETag), the `zones` its events use (for VTIMEZONEs), a page of `entries` (row id
and cache key, from narrow columns only) and, for cache misses, the `events`
of some rows as plain FeedEvents.
"""

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

from django.conf import settings
from django.db.models import Count, Max, Model, QuerySet, Sum

# Bump when the rendered text changes shape: every cached event is re-rendered.
RENDER_FORMAT = 1

CONFIRMED, TENTATIVE, CANCELLED = "CONFIRMED", "TENTATIVE", "CANCELLED"


@dataclass(frozen=True, slots=True)
class FeedQuery:
    """Which events a feed shows: its name, filters and the instant it is built."""

    feed: str
    now: datetime
    systems: frozenset[str] = frozenset()  # empty: every system
    team: str = ""
    public: bool = False
    # The systems asked for, when `systems` was widened by their dependents.
    asked: frozenset[str] = frozenset()

    @property
    def cancelled_since(self) -> datetime:
        # A cancelled job or withdrawn deadline stays this long, marked
        # STATUS:CANCELLED, so that apps which merge rather than replace remove
        # it; then it leaves the feed (and stops costing every fetch).
        return self.now - settings.CLEARWAY_FEED_CANCELLED_KEPT


@dataclass(frozen=True, slots=True)
class FeedEvent:
    """One VEVENT as plain values. `start`/`end` are aware; `zone` is IANA or UTC.

    A recurring event has `rrule` (RFC 5545 text, no prefix) and `exdates`
    (excluded occurrence starts), expanded from `start` in `zone`; an unbounded
    rule's DST exceptions are listed up to `expand_until` (see overrides).
    """

    uid: str
    sequence: int
    modified: datetime
    start: datetime
    end: datetime | None
    zone: str
    summary: str
    description: str
    url: str
    category: str
    status: str = CONFIRMED
    rrule: str = ""
    exdates: tuple[datetime, ...] = field(default=())
    expand_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class SourceState:
    """Enough to tell that a source's events changed, without reading them."""

    count: int
    modified: datetime | None
    fingerprint: tuple = ()


def site_url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


class QuerysetFeedSource:
    """A source whose events come from one model, one cached text per row.

    Subclasses give the filtered `rows`, the columns that change whenever a
    row's text must (`stamp_fields`, `version` first; `annotate` may add
    computed ones; `modified_fields` are those that are times of change), how
    to `load` full rows and turn one into FeedEvents.
    """

    feed: ClassVar[str]
    kind: ClassVar[str]
    public: ClassVar[bool] = False  # whether it serves the anonymous public feed
    zone_field: ClassVar[str | None] = "timezone"
    stamp_fields: ClassVar[tuple[str, ...]] = ("version", "updated_at")
    # The stamps that are times of change (Last-Modified); others only key.
    modified_fields: ClassVar[tuple[str, ...]] = ("updated_at",)
    # Stamps that only grow by steps (versions, counts): summed for the ETag,
    # so that a change within one clock tick still shows.
    counted_fields: ClassVar[tuple[str, ...]] = ("version",)

    def rows(self, *, query: FeedQuery) -> QuerySet:
        raise NotImplementedError

    def annotate(self, rows: QuerySet) -> QuerySet:
        return rows

    def load(self, *, ids: list[int]) -> Iterable[Model]:
        raise NotImplementedError

    def events_of(self, row: Model, *, query: FeedQuery) -> list[FeedEvent]:
        raise NotImplementedError

    def revision(self) -> str:
        """Settings the rendered text depends on, besides the row itself."""
        return ""

    def state(self, *, query: FeedQuery) -> SourceState:
        stamps = self.stamp_fields
        # Aliases must differ from the annotations they aggregate.
        found = self.annotate(self.rows(query=query)).aggregate(
            count=Count("pk"),
            **{
                f"newest_{name}": Sum(name) if name in self.counted_fields else Max(name)
                for name in stamps
            },
        )
        newest = {name: found[f"newest_{name}"] for name in stamps}
        modified = max(
            (newest[name] for name in self.modified_fields if newest[name] is not None),
            default=None,
        )
        return SourceState(
            count=found["count"], modified=modified, fingerprint=tuple(newest.values())
        )

    def zones(self, *, query: FeedQuery) -> set[str]:
        if self.zone_field is None:
            return set()
        names = self.rows(query=query).order_by().values_list(self.zone_field, flat=True)
        return set(names.distinct())

    def entries(self, *, query: FeedQuery, after: int, limit: int) -> list[tuple[int, str]]:
        """(id, cache key) of the next `limit` rows with an id above `after`."""
        rows = self.annotate(self.rows(query=query)).filter(pk__gt=after).order_by("pk")
        prefix = self._key_prefix(query)
        return [
            (pk, f"{prefix}:{pk}:v{version}:{_short_hash(stamps)}")
            for pk, version, *stamps in rows.values_list("pk", *self.stamp_fields)[:limit]
        ]

    def events(self, *, ids: list[int], query: FeedQuery) -> dict[int, list[FeedEvent]]:
        return {row.pk: self.events_of(row, query=query) for row in self.load(ids=ids)}

    def _key_prefix(self, query: FeedQuery) -> str:
        context = _short_hash((RENDER_FORMAT, settings.SITE_URL, self.revision()))
        return f"cwfeed:{context}:{self.kind}:{'public' if query.public else 'private'}"


def _short_hash(value: object) -> str:
    return hashlib.blake2b(repr(value).encode(), digest_size=8).hexdigest()

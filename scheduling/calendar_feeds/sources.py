"""What a calendar feed source answers, and the base class the three sources share.

A source (listed in settings.CLEARWAY_FEED_SOURCES) publishes one feed
(`maintenance`, `blackouts` or `deadlines`). It answers four questions about
the rows a FeedQuery selects: a cheap `state` (count and newest change, for the
ETag), the `zones` its events use (for VTIMEZONEs), a page of `entries` (row
id, the stamp its text must have, and its stored text when that text is
current, in one query) and, for the rows whose text is missing or stale, the
`events` as plain FeedEvents.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import ClassVar

from django.conf import settings
from django.db import connection
from django.db.models import (
    Count,
    Expression,
    Func,
    Max,
    Model,
    OuterRef,
    Q,
    QuerySet,
    StringAgg,
    Subquery,
    Sum,
    TextField,
    Value,
)
from django.db.models.functions import MD5, Cast, Coalesce
from django.utils.module_loading import import_string

from scheduling.models import FeedText

# Bump when the rendered text changes shape: every stored text is re-rendered.
RENDER_FORMAT = 2  # 2: a typed `\N` in a text is no longer a line break

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
    # With `team`: the systems it owns and their dependents (conflicts.team_reach).
    team_reach: frozenset[str] = frozenset()

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
class Entry:
    """A row of a feed page: its id, the stamp its text must have now, and the
    stored text when it has that stamp (None: render the row)."""

    pk: int
    stamp: str
    text: bytes | None


@dataclass(frozen=True, slots=True)
class SourceState:
    """Enough to tell that a source's events changed, without reading them."""

    count: int
    modified: datetime | None
    fingerprint: tuple = ()


def site_url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def names_of(rows: QuerySet, *, per: str, name: str | Expression) -> Subquery:
    """The `name`s of the rows related to the outer row (`rows` is filtered on
    OuterRef), joined into one string: a stamp that changes on a rename."""
    # Ordered where the database can (SQLite from 3.44): otherwise an order
    # that changed would only make a text render again, never serve a stale one.
    ordered = {"order_by": "pk"} if connection.features.supports_aggregate_order_by_clause else {}
    joined = StringAgg(name, Value("|"), **ordered)
    return Subquery(rows.order_by().values(per).annotate(names=joined).values("names"))


def related_names(through: type[Model], *, owner: str) -> Subquery:
    """The slugs of the systems a row is on (through its many-to-many table)."""
    rows = through.objects.filter(**{owner: OuterRef("pk")})
    return names_of(rows, per=owner, name="system__slug")


class QuerysetFeedSource:
    """A source whose events come from one model, one stored text per row.

    Subclasses give the filtered `rows`; for the ETag, the columns that change
    whenever a row's text must (`stamp_fields`; `modified_fields` are those
    that are times of change; a subclass may add to `state`); for each
    stored text, the columns it is rendered from that may change without a new
    version (`text_fields`) and the names it shows from other rows (`context`:
    a team's name, system slugs); then how to `load` full rows and turn one
    into FeedEvents.
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
    # The row's own columns in the stamp of its stored text.
    text_fields: ClassVar[tuple[str, ...]] = ("version", "updated_at")
    # The lookup naming the team a row belongs to (None: rows belong to no team).
    team_field: ClassVar[str | None] = "team__slug"

    def rows(self, *, query: FeedQuery) -> QuerySet:
        raise NotImplementedError

    def on(self, systems: frozenset[str]) -> Q:
        """The rows on any of `systems`, or on every system."""
        raise NotImplementedError

    def filtered(self, rows: QuerySet, *, query: FeedQuery) -> QuerySet:
        """The rows the feed's filters keep, as the web calendar filters its items.

        `?systems=` keeps what is on them or reaches them through a dependency
        (the view widened them by their dependents); `?team=` keeps the team's
        own rows and what is on, or reaches, the systems it owns. Each event
        names the systems it is on, so what reached through a dependency says
        where it comes from.
        """
        if query.systems:
            rows = rows.filter(self.on(query.systems))
        if query.team:
            concerns = self.on(query.team_reach)
            if self.team_field is not None:
                concerns |= Q(**{self.team_field: query.team})
            rows = rows.filter(concerns)
        return rows

    def context(self) -> dict[str, Expression | Subquery]:
        """Names the text shows from other rows (renamed without touching this one)."""
        return {}

    def load(self, *, ids: list[int]) -> Iterable[Model]:
        raise NotImplementedError

    def events_of(self, row: Model, *, query: FeedQuery) -> list[FeedEvent]:
        raise NotImplementedError

    def revision(self) -> str:
        """Settings the rendered text depends on, besides the row itself."""
        return ""

    def names(self) -> object:
        """Names of this source's own catalogue its texts show (for the ETag)."""
        return ()

    def state(self, *, query: FeedQuery) -> SourceState:
        stamps = self.stamp_fields
        # Aliases must differ from the annotations they aggregate.
        found = self.rows(query=query).aggregate(
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

    def entries(
        self, *, query: FeedQuery, after: int = 0, limit: int, ids: list[int] | None = None
    ) -> list[Entry]:
        """The next `limit` rows with an id above `after`, each with the stamp its
        text must have and its stored text when current, in one query."""
        rows = self.rows(query=query)
        if ids is not None:
            rows = rows.filter(pk__in=ids)
        scope = repr((RENDER_FORMAT, settings.SITE_URL, self.revision(), query.public))
        context = self.context()
        stored = FeedText.objects.filter(kind=self.kind, public=query.public, row_id=OuterRef("pk"))
        page = (
            rows.annotate(**context)
            .annotate(
                stamp=_stamp(scope, [*self.text_fields, *context]),
                # The stored stamp (32 characters), then the text: one lookup.
                stored=Subquery(stored.values(both=TextJoin("stamp", "text"))),
            )
            .filter(pk__gt=after)
            .order_by("pk")
            .values_list("pk", "stamp", "stored")[:limit]
        )
        return [
            Entry(pk, stamp, stored[32:].encode() if stored and stored[:32] == stamp else None)
            for pk, stamp, stored in page
        ]

    def events(self, *, ids: list[int], query: FeedQuery) -> dict[int, list[FeedEvent]]:
        return {row.pk: self.events_of(row, query=query) for row in self.load(ids=ids)}


class TextJoin(Func):
    """Texts joined with `||` in one flat expression (Concat nests one pair per
    argument, too deep for SQLite's parser with a dozen)."""

    template = "(%(expressions)s)"
    arg_joiner = " || "
    output_field = TextField()


def as_text(name: str | Expression) -> Coalesce:
    """A column or expression as text, never NULL (a NULL would blank the join)."""
    return Coalesce(Cast(name, TextField()), Value("-"))


def _stamp(scope: str, names: list[str]) -> MD5:
    """An MD5 digest, computed by the database, of the scope and the named values
    of a row: the stamp its stored text must have. Not a secret, only a key."""
    parts: list[Expression] = [Value(scope)]
    for name in names:
        parts += [Value("|"), as_text(name)]
    return MD5(TextJoin(*parts))


@cache
def _all_sources(paths: tuple[str, ...]) -> tuple[QuerysetFeedSource, ...]:
    return tuple(import_string(path)() for path in paths)


def all_sources() -> tuple[QuerysetFeedSource, ...]:
    return _all_sources(tuple(settings.CLEARWAY_FEED_SOURCES))

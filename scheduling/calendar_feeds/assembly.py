"""A feed's validator and its body, assembled from each event's stored text.

Rendering an event with icalendar costs a millisecond or so, so a feed of
100,000 events would take a minute and a half to build from scratch. Instead
each row's VEVENT text is stored in the database (FeedText) with the stamp it
was rendered from: a request reads the rows page by page with their stored
texts (one query per page), renders only the rows whose text is missing or
stale, stores those (see `stored`) and streams the page. Any process, the
first request after a start included, serves stored texts; memory stays
bounded by the page size however big the feed.

The validator (ETag, Last-Modified) comes from a count and the newest change
stamps per source, and the catalogue's names, kept for a minute, so a
conditional GET answers 304 without building anything.
"""

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import caches

from scheduling.calendar_feeds import render
from scheduling.calendar_feeds.sources import (
    RENDER_FORMAT,
    FeedQuery,
    QuerysetFeedSource,
    all_sources,
)
from scheduling.calendar_feeds.stored import texts_for
from scheduling.models import System, Team

# Rows read (and texts rendered when missing or stale) per step of the stream.
PAGE = 1000
# Counting a feed's rows takes milliseconds, and subscribers poll the same URL
# every few minutes: the validator is kept this long, so a conditional GET is
# a token lookup and a cache read. A change reaches the ETag within it (the
# body itself is always read fresh).
VALIDATOR_TTL = 60


def feed_names() -> set[str]:
    return {"all"} | {source.feed for source in all_sources()}


def sources_for(*, query: FeedQuery) -> list[QuerysetFeedSource]:
    return [
        source
        for source in all_sources()
        if (query.feed == "all" or source.feed == query.feed)
        and (source.public or not query.public)
    ]


def _store():
    return caches[settings.CLEARWAY_FEED_CACHE]


@dataclass(frozen=True, slots=True)
class Validator:
    etag: str
    last_modified: datetime


def feed_validator(*, query: FeedQuery) -> Validator:
    """The ETag and Last-Modified of a feed, kept for VALIDATOR_TTL seconds."""
    scope = (
        RENDER_FORMAT,
        settings.SITE_URL,
        settings.TIME_ZONE,
        query.feed,
        sorted(query.systems),
        query.team,
        # A system given to the team, or a new dependent of its systems, changes
        # what the feed holds: its validator then too.
        sorted(query.team_reach),
        query.public,
    )
    key = f"cwfeed:validator:{_hash(scope)}"
    store = _store()
    if (cached := store.get(key)) is not None:
        return cached
    parts: list[object] = [_catalogue()]
    newest: list[datetime] = []
    for source in sources_for(query=query):
        state = source.state(query=query)
        parts.append(
            (source.kind, source.revision(), source.names(), state.count, state.fingerprint)
        )
        if state.modified is not None:
            newest.append(state.modified)
    tag = _hash((scope, parts))
    validator = Validator(etag=f'W/"{tag}"', last_modified=_first_seen(tag, newest, query.now))
    store.set(key, validator, VALIDATOR_TTL)
    return validator


def _catalogue() -> tuple:
    """The names every feed shows from the catalogue: a rename changes the ETag
    (the texts themselves are stamped with them row by row)."""
    teams = Team.objects.order_by("pk").values_list("pk", "name")
    systems = System.objects.order_by("pk").values_list("pk", "slug")
    dependencies = System.depends_on.through.objects.order_by("pk").values_list(
        "from_system_id", "to_system_id"
    )
    return (_hash(list(teams)), _hash(list(systems)), _hash(list(dependencies)))


def _hash(value: object) -> str:
    return hashlib.blake2b(repr(value).encode(), digest_size=16).hexdigest()


def _first_seen(tag: str, newest: list[datetime], now: datetime) -> datetime:
    """When this ETag was first served, and never before the newest change.

    The newest change alone would miss deletions and events that age out (the
    count changes, no stamp grows), and a client that sends only
    If-Modified-Since would keep its stale copy.
    """
    key = f"cwfeed:seen:{tag}"
    store = _store()
    store.add(key, now.timestamp())
    seen = datetime.fromtimestamp(store.get(key, now.timestamp()), tz=UTC)
    return max([seen, *newest])


def calendar_name(*, query: FeedQuery) -> str:
    name = "Clearway" if query.feed == "all" else f"Clearway {query.feed}"
    shown = query.asked or query.systems
    scope = [", ".join(sorted(shown))] if shown else []
    if query.team:
        scope.append(f"team {query.team}")
    return f"{name} ({'; '.join(scope)})" if scope else name


def feed_body(*, query: FeedQuery, page: int = PAGE) -> Iterator[bytes]:
    """The calendar as a stream of chunks: header, one chunk per page, end."""
    sources = sources_for(query=query)
    zones = set().union(*(source.zones(query=query) for source in sources))
    yield render.header(
        name=calendar_name(query=query),
        description="Maintenance, blackouts and deadlines from Clearway.",
        zones=zones,
        default_zone=settings.TIME_ZONE,
    )
    for source in sources:
        after = 0
        while True:
            entries = source.entries(query=query, after=after, limit=page)
            if not entries:
                break
            texts = texts_for(source=source, query=query, entries=entries)
            # A row deleted meanwhile has no text and is skipped.
            yield b"".join(texts.get(entry.pk, b"") for entry in entries)
            if len(entries) < page:
                break
            after = entries[-1].pk
    yield render.END

"""A feed's validator and its body, assembled from each event's cached text.

Rendering an event with icalendar costs a millisecond or so, so a feed of
10,000 events would take many seconds to build from scratch. Instead each row's
VEVENT text is cached under a key made of its id, version and change stamps
(see QuerysetFeedSource.entries): a request reads narrow rows page by page,
fetches their texts in one cache call per page, renders only the misses and
streams the page. Memory stays bounded by the page size however big the feed.

The validator (ETag, Last-Modified) comes from a count and the newest change
stamps per source, kept for a minute, so a conditional GET answers 304
without building anything.
"""

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

from django.conf import settings
from django.core.cache import caches
from django.utils.module_loading import import_string

from scheduling.calendar_feeds import render
from scheduling.calendar_feeds.sources import RENDER_FORMAT, FeedQuery, QuerysetFeedSource

# Rows read (and events rendered on a cold cache) per step of the stream.
PAGE = 1000
# Counting a feed's rows takes milliseconds, and subscribers poll the same URL
# every few minutes: the validator is kept this long, so a conditional GET is
# a token lookup and a cache read. A change reaches the ETag within it (the
# body itself is always read fresh).
VALIDATOR_TTL = 60


@cache
def _all_sources(paths: tuple[str, ...]) -> tuple[QuerysetFeedSource, ...]:
    return tuple(import_string(path)() for path in paths)


def all_sources() -> tuple[QuerysetFeedSource, ...]:
    return _all_sources(tuple(settings.CLEARWAY_FEED_SOURCES))


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
        query.public,
    )
    key = f"cwfeed:validator:{_hash(scope)}"
    store = _store()
    if (cached := store.get(key)) is not None:
        return cached
    parts = []
    newest: list[datetime] = []
    for source in sources_for(query=query):
        state = source.state(query=query)
        parts.append((source.kind, source.revision(), state.count, state.fingerprint))
        if state.modified is not None:
            newest.append(state.modified)
    tag = _hash((scope, parts))
    validator = Validator(etag=f'W/"{tag}"', last_modified=_first_seen(tag, newest, query.now))
    store.set(key, validator, VALIDATOR_TTL)
    return validator


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
    store = _store()
    for source in sources:
        after = 0
        while True:
            entries = source.entries(query=query, after=after, limit=page)
            if not entries:
                break
            texts = store.get_many([key for _, key in entries])
            missing = [pk for pk, key in entries if key not in texts]
            if missing:
                events = source.events(ids=missing, query=query)
                fresh = {
                    key: render.render_events(events[pk])
                    for pk, key in entries
                    if key not in texts and pk in events  # a row deleted meanwhile is skipped
                }
                store.set_many(fresh)
                texts.update(fresh)
            yield b"".join(texts.get(key, b"") for _, key in entries)
            if len(entries) < page:
                break
            after = entries[-1][0]
    yield render.END

"""The stored VEVENT texts (FeedText): served when current, rendered and stored when not.

A feed reads each page's texts with its rows (QuerysetFeedSource.entries).
The rows whose text is missing or stale are rendered here and stored for the
next reader, in any process: one bulk upsert per page that never waits on a
lock (a GET skips the write rather than wait behind a writer; the next reader
renders those rows again). Services call `feed_texts_store` inside their
transaction when one row changed, so even the first reader finds its text.
"""

import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime

from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from scheduling.calendar_feeds import render
from scheduling.calendar_feeds.sources import Entry, FeedQuery, QuerysetFeedSource, all_sources
from scheduling.db import write_without_waiting
from scheduling.models import FeedText

# How long a feed's write of fresh texts may wait for SQLite's database lock.
SQLITE_WAIT_MS = 10

_gathering = threading.local()


def texts_for(
    *, source: QuerysetFeedSource, query: FeedQuery, entries: list[Entry]
) -> dict[int, bytes]:
    """Each entry's text: the stored one when current, else rendered now and stored."""
    texts = {entry.pk: entry.text for entry in entries if entry.text is not None}
    missing = [entry for entry in entries if entry.text is None]
    if not missing:
        return texts
    stamps, events = _read_together(source=source, query=query, ids=[e.pk for e in missing])
    # A row deleted since the page was read has no events and is skipped.
    fresh = {pk: render.render_events(events[pk]) for pk in stamps if pk in events}
    _store(
        [
            FeedText(
                kind=source.kind,
                public=query.public,
                row_id=pk,
                stamp=stamps[pk],
                text=text.decode(),
            )
            for pk, text in fresh.items()
        ]
    )
    texts.update(fresh)
    return texts


def _read_together(
    *, source: QuerysetFeedSource, query: FeedQuery, ids: list[int]
) -> tuple[dict[int, str], dict[int, list]]:
    """The rows' stamps and events, read from one snapshot of the database.

    A text is stored under the stamp of the very data it was rendered from:
    stamped from the page read, a row renamed in between and renamed back
    would have its newer text served under the older name's stamp.
    """
    with _one_snapshot():
        stamps = {e.pk: e.stamp for e in source.entries(query=query, ids=ids, limit=len(ids))}
        events = source.events(ids=list(stamps), query=query)
    return stamps, events


@contextmanager
def _one_snapshot() -> Iterator[None]:
    if connection.in_atomic_block:
        # A service's transaction: it holds the locks of the rows it changes.
        yield
        return
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # SQLite's transactions already read one snapshot (WAL).
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield


def _store(rows: list[FeedText]) -> None:
    if not rows:
        return

    def write() -> None:
        FeedText.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["kind", "public", "row_id"],
            update_fields=["stamp", "text"],
        )

    if connection.vendor == "postgresql" or connection.in_atomic_block:
        write_without_waiting(write)
        return
    # SQLite has no lock timeout: its busy timeout stands in, for this write only.
    with connection.cursor() as cursor:
        previous = cursor.execute("PRAGMA busy_timeout").fetchone()[0]
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_WAIT_MS}")
    try:
        with transaction.atomic():
            write()
    except DatabaseError:
        pass  # another writer holds the database: the next reader renders these rows
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA busy_timeout = {int(previous)}")


@contextmanager
def feed_texts_gathered() -> Iterator[None]:
    """Store the texts asked for inside once, when the block ends, a page per kind.

    For work that changes many rows in many transactions (a bulk
    re-evaluation): one render and one upsert instead of one per row. A text
    not yet stored when a feed is read is stale by its stamp, and the feed
    renders it then, so nothing wrong is served in between. Nested blocks
    join the outermost.
    """
    if getattr(_gathering, "ids", None) is not None:
        yield
        return
    gathered: defaultdict[str, set[int]] = defaultdict(set)
    _gathering.ids = gathered
    try:
        yield
    finally:
        _gathering.ids = None
    for kind, ids in sorted(gathered.items()):
        ordered = sorted(ids)
        for at in range(0, len(ordered), 1000):
            feed_texts_store(kind=kind, ids=ordered[at : at + 1000])


def feed_texts_prune(*, now: datetime | None = None) -> int:
    """Daily: drop the texts of rows no feed shows any more (deleted, or
    cancelled long ago), so the table holds about one text per shown event."""
    now = now or timezone.now()
    deleted = 0
    for source in all_sources():
        for public in (False, True):
            query = FeedQuery(feed=source.feed, now=now, public=public)
            shown = source.rows(query=query).values("pk")
            texts = FeedText.objects.filter(kind=source.kind, public=public)
            deleted += texts.exclude(row_id__in=shown).delete()[0]
    return deleted


def feed_texts_store(*, kind: str, ids: Iterable[int], now: datetime | None = None) -> None:
    """Render and store the texts of these rows of a source (inside the caller's
    transaction). Rows its feed does not show (a draft job) are left alone.
    Inside `feed_texts_gathered` the rows wait for its end instead."""
    gathered = getattr(_gathering, "ids", None)
    if gathered is not None:
        gathered[kind].update(ids)
        return
    ids = list(ids)
    for source in all_sources():
        if source.kind != kind or not ids:
            continue
        query = FeedQuery(feed=source.feed, now=now or timezone.now())
        # Rendered whatever is stored: the caller has just changed these rows.
        texts_for(source=source, query=query, entries=[Entry(pk, "", None) for pk in ids])

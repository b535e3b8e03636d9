"""The stored VEVENT texts (FeedText): served when current, rendered and stored when not.

A feed reads each page's texts with its rows (QuerysetFeedSource.entries).
The rows whose text is missing or stale are rendered here and stored for the
next reader, in any process: one bulk upsert per page that never waits on a
lock (a GET skips the write rather than wait behind a writer; the next reader
renders those rows again). Services call `feed_texts_store` inside their
transaction when one row changed, so even the first reader finds its text.
"""

from collections.abc import Iterable
from datetime import datetime

from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from scheduling.calendar_feeds import render
from scheduling.calendar_feeds.sources import Entry, FeedQuery, QuerysetFeedSource, all_sources
from scheduling.db import write_without_waiting
from scheduling.models import FeedText

# How long a feed's write of fresh texts may wait for SQLite's database lock.
SQLITE_WAIT_MS = 10


def texts_for(
    *, source: QuerysetFeedSource, query: FeedQuery, entries: list[Entry]
) -> dict[int, bytes]:
    """Each entry's text: the stored one when current, else rendered now and stored."""
    texts = {entry.pk: entry.text for entry in entries if entry.text is not None}
    missing = [entry for entry in entries if entry.text is None]
    if not missing:
        return texts
    events = source.events(ids=[entry.pk for entry in missing], query=query)
    # A row deleted since the page was read has no events and is skipped. Its
    # text is rendered from data at least as new as the stamp it is stored
    # under, so a text never outlives the stamp it was rendered for.
    fresh = [
        (entry, render.render_events(events[entry.pk])) for entry in missing if entry.pk in events
    ]
    _store(
        [
            FeedText(
                kind=source.kind,
                public=query.public,
                row_id=entry.pk,
                stamp=entry.stamp,
                text=text.decode(),
            )
            for entry, text in fresh
        ]
    )
    texts.update((entry.pk, text) for entry, text in fresh)
    return texts


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
    transaction). Rows its feed does not show (a draft job) are left alone."""
    ids = list(ids)
    for source in all_sources():
        if source.kind != kind or not ids:
            continue
        query = FeedQuery(feed=source.feed, now=now or timezone.now())
        entries = source.entries(query=query, ids=ids, limit=len(ids))
        texts_for(source=source, query=query, entries=entries)

"""django-q2 tasks for deadline feeds: thin, by id, safe to run twice."""

from typing import Any


def sync_due_feeds() -> int:
    """Every minute (one schedule for all feeds): sync the feeds that are due."""
    from deadlines.feeds.sync import feeds_sync_due

    return feeds_sync_due()


def sync_feed(feed_id: int) -> dict[str, Any] | None:
    """On demand (the API's sync action): sync one feed now."""
    from dataclasses import asdict

    from deadlines.feeds.sync import feed_sync
    from deadlines.models import DeadlineFeed

    if not DeadlineFeed.objects.filter(pk=feed_id).exists():
        return None  # deleted since it was queued
    return asdict(feed_sync(feed_id=feed_id))


def store_feed_texts(*, ids: list[int]) -> int:
    """After a bulk write (a feed sync, an upload): render the deadlines' feed texts."""
    from deadlines.bulk import deadlines_feed_texts_store

    return deadlines_feed_texts_store(ids=ids)

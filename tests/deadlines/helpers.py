"""Feeds for the tests, and a way to compare the deadlines before and after a sync."""

from datetime import timedelta

from deadlines.feeds.services import deadline_feed_create
from deadlines.models import Deadline, DeadlineFeed


def feed(url: str, *, team, cohort_size: int = 150, **kwargs) -> DeadlineFeed:
    kwargs.setdefault("interval", timedelta(hours=1))
    return deadline_feed_create(team=team, url=url, cohort_size=cohort_size, **kwargs)


def snapshot(target: DeadlineFeed) -> list[tuple]:
    """Every deadline of the feed, with everything a sync could change."""
    rows = Deadline.objects.filter(feed=target).order_by("external_uid")
    return [
        (
            d.pk,
            d.external_uid,
            d.title,
            d.course,
            d.cohort_id,
            d.cohort_size,
            d.due,
            d.withdrawn_at,
            d.version,
            d.updated_at,
            tuple(sorted(d.systems.values_list("slug", flat=True))),
        )
        for d in rows
    ]


def live(target: DeadlineFeed) -> dict[str, Deadline]:
    return {
        d.external_uid: d for d in Deadline.objects.filter(feed=target, withdrawn_at__isnull=True)
    }

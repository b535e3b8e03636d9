"""Sync a deadline feed: fetch, parse, upsert; or record why not and keep what was there.

The download happens outside any transaction (a slow LMS must not hold a
database lock); the upsert then runs in one transaction with the feed row
locked, so two syncs of one feed queue up and a failure halfway leaves every
deadline as it was. A failure is recorded on the feed and told to its team
once per failure streak; the next good sync ends the streak.
"""

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from deadlines.choices import FeedFormat
from deadlines.entries import Parsed
from deadlines.feeds.apply import Changes, feed_entries_apply
from deadlines.feeds.errors import FeedError
from deadlines.feeds.fetch import Fetched, fetch_feed
from deadlines.feeds.parse_ics import feed_window, parse_ics
from deadlines.feeds.parse_json import parse_json
from deadlines.models import DeadlineFeed
from deadlines.services import can_publish
from scheduling.errors import InvalidInput
from scheduling.services.calendar_batch import calendar_batch
from scheduling.services.notifications import notify
from scheduling.timeline.bulk import timeline_deferred

logger = logging.getLogger(__name__)


@dataclass
class SyncResult:
    ok: bool
    not_modified: bool = False
    error: str = ""
    changes: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def feed_parse(*, feed_format: str, body: bytes, now: datetime) -> Parsed:
    if feed_format == FeedFormat.JSON:
        return parse_json(body, max_events=settings.CLEARWAY_FEED_MAX_EVENTS)
    return parse_ics(body, window=feed_window(now=now))


def feed_sync(*, feed_id: int, now: datetime | None = None) -> SyncResult:
    """Sync one feed now; never raises for a bad feed (the error is on the feed)."""
    now = now or timezone.now()
    feed = DeadlineFeed.objects.select_related("team", "created_by").get(pk=feed_id)
    DeadlineFeed.objects.filter(pk=feed_id).update(
        last_attempt_at=now, next_sync_at=now + feed.interval
    )
    try:
        if not _may_publish(feed):
            raise FeedError(
                "This feed's team is not a curriculum team and no administrator added the "
                "feed, so its deadlines are not published."
            )
        fetched = fetch_feed(url=feed.url, etag=feed.etag, last_modified=feed.last_modified)
        if fetched.not_modified:
            _record_success(feed_id, now=now, fetched=fetched, changes=None)
            return SyncResult(ok=True, not_modified=True)
        parsed = feed_parse(feed_format=feed.format, body=fetched.body, now=now)
        with transaction.atomic():
            locked = DeadlineFeed.objects.select_for_update().select_related("team").get(pk=feed_id)
            if (locked.url, locked.format) != (feed.url, feed.format):
                raise FeedError("The feed's URL or format changed during the sync; sync it again.")
            # One timeline refresh for the whole sync, not one per deadline.
            # ... and one calendar change and one re-evaluation task, over the
            # union of the changed windows, not one per deadline.
            with timeline_deferred(), calendar_batch(reason=f"deadline feed {feed_id} synced"):
                changes = feed_entries_apply(
                    feed=locked,
                    entries=parsed.entries,
                    problems=parsed.problems,
                    since=feed_window(now=now).since,
                    now=now,
                )
            _record_success(feed_id, now=now, fetched=fetched, changes=changes)
        warnings = [str(problem) for problem in changes.problems]
        return SyncResult(ok=True, changes=changes.as_dict(), warnings=warnings)
    except FeedError as exc:
        message = str(exc)
    except InvalidInput as exc:
        details = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.fields.items())
        message = f"The feed's deadlines could not be saved: {exc.message} {details}".strip()
    except Exception:
        logger.exception("syncing deadline feed %s failed", feed_id)
        message = "Clearway failed while syncing this feed; the server log has the details."
    _record_failure(feed_id, message=message, now=now)
    return SyncResult(ok=False, error=message)


def _may_publish(feed: DeadlineFeed) -> bool:
    """The publishing rule for a feed, which syncs as Clearway itself: its team is a
    curriculum team, or an administrator added it (feeds added before the rule)."""
    if feed.team.slug in settings.CLEARWAY_CURRICULUM_TEAMS:
        return True
    return bool(feed.created_by and can_publish(by=feed.created_by, team=feed.team))


def _record_success(
    feed_id: int, *, now: datetime, fetched: Fetched, changes: Changes | None
) -> None:
    state: dict[str, object] = {
        "last_success_at": now,
        "last_error": "",
        "failing_since": None,
        "failure_count": 0,
        "failure_notified": False,
    }
    if changes is not None:
        feed = DeadlineFeed.objects.select_related("team", "created_by").get(pk=feed_id)
        state.update(
            etag=fetched.etag,
            last_modified=fetched.last_modified,
            last_warnings=[str(problem) for problem in changes.problems][:100],
            deadline_count=feed.deadlines.filter(withdrawn_at__isnull=True).count(),
        )
    DeadlineFeed.objects.filter(pk=feed_id).update(**state)


def _record_failure(feed_id: int, *, message: str, now: datetime) -> None:
    with transaction.atomic():
        feed = (
            DeadlineFeed.objects.select_for_update().select_related("team").filter(pk=feed_id)
        ).first()
        if feed is None:
            return  # deleted while it synced
        feed.last_error = message[:2000]
        feed.failure_count += 1
        feed.failing_since = feed.failing_since or now
        if not feed.failure_notified:
            _tell_team(feed, message=message, now=now)
            feed.failure_notified = True
        feed.save(
            update_fields=["last_error", "failure_count", "failing_since", "failure_notified"]
        )


def _tell_team(feed: DeadlineFeed, *, message: str, now: datetime) -> None:
    host = urlsplit(feed.url).hostname or feed.url
    link = f"{settings.SITE_URL}/api/v1/deadline-feeds/{feed.pk}"
    notify(
        key=f"deadline-feed:{feed.pk}:failing:{feed.failing_since:%Y%m%dT%H%M%S.%f}",
        event="deadline_feed_failing",
        teams=[feed.team],
        subject=f"[Clearway] The deadline feed from {host} is failing",
        text=(
            f"Clearway could not sync the deadline feed #{feed.pk} from {host}: {message}\n"
            "Its last good deadlines stay in place, and Clearway keeps trying every "
            f"{feed.interval}. You will not be told again until it has recovered. {link}"
        ),
        data={"feed": feed.pk, "host": host, "error": message, "team": feed.team.slug},
        now=now,
    )


def feed_claim_due(*, now: datetime) -> int | None:
    """Claim the most overdue enabled feed by moving its next_sync_at on, if nobody else did."""
    for _ in range(5):
        row = (
            DeadlineFeed.objects.filter(enabled=True, next_sync_at__lte=now)
            .order_by("next_sync_at", "pk")
            .values_list("pk", "next_sync_at", "interval")
            .first()
        )
        if row is None:
            return None
        pk, due, interval = row
        if DeadlineFeed.objects.filter(pk=pk, next_sync_at=due).update(next_sync_at=now + interval):
            return pk
    return None  # others are claiming the same rows: let them


def feed_sync_next_due(*, now: datetime | None = None) -> bool:
    """Claim one due feed and sync it; False when none was due."""
    now = now or timezone.now()
    feed_id = feed_claim_due(now=now)
    if feed_id is None:
        return False
    feed_sync(feed_id=feed_id, now=now)
    return True


def feeds_sync_due(*, budget: timedelta = timedelta(seconds=60)) -> int:
    """Sync due feeds one at a time until none is due or the budget is spent.

    The budget keeps one run (plus one download) inside the worker's task
    timeout; what is left is claimed by the next run a minute later.
    """
    started, synced = time.monotonic(), 0
    while time.monotonic() - started < budget.total_seconds() and feed_sync_next_due():
        synced += 1
    return synced

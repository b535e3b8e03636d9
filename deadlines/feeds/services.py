"""Writes to deadline feeds: register, change and remove a remote feed."""

import ipaddress
from collections.abc import Iterable
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from deadlines.choices import FeedFormat
from deadlines.entries import COHORT_MAX
from deadlines.feeds.addresses import allowed_networks, is_allowed
from deadlines.feeds.errors import FeedError
from deadlines.limits import COHORT_SIZE_MAX, is_cohort_size
from deadlines.models import MIN_FEED_INTERVAL, DeadlineFeed
from deadlines.services import check_can_publish, deadline_withdraw
from scheduling.errors import InvalidInput
from scheduling.models import System, Team
from scheduling.selectors import unknown_systems

MAX_FEED_INTERVAL = timedelta(days=30)
# A change to any of these changes what the feed's deadlines should be, so the
# validators of the last response are dropped and the feed syncs at once.
_RESYNC_ON = {"url", "format", "team", "cohort", "cohort_size", "systems"}


def _check_url(url: str) -> str | None:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return "This is not a URL."
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "Give an http:// or https:// URL."
    if any(character.isspace() for character in url):
        # urlsplit drops tabs and keeps spaces in host names: such a feed would
        # fetch another address than the one shown, or fail at every sync.
        return "This is not a URL: it has a space or tab in it (write %20 in a path)."
    if parts.username or parts.password:
        return "Put no user name or password in the URL; LMS feed URLs carry a token instead."
    try:
        address = ipaddress.ip_address(parts.hostname)
    except ValueError:
        return None  # a host name: checked when it is resolved, at every sync
    try:
        allowed = is_allowed(address, allowed_networks())
    except FeedError as exc:
        return str(exc)
    return None if allowed else f"{address} is a private, loopback, link-local or reserved address."


def check_deadline_feed(
    *,
    url: str,
    feed_format: str,
    cohort: str,
    cohort_size: int | None,
    systems: Iterable[str],
    interval: timedelta,
) -> None:
    errors: dict[str, list[str]] = {}
    if problem := _check_url(url):
        errors["url"] = [problem]
    elif len(url) > 2000:
        errors["url"] = ["A feed URL has at most 2,000 characters."]
    if feed_format not in FeedFormat.values:
        errors["format"] = [f"Choose one of: {', '.join(FeedFormat.values)}."]
    if len(cohort) > COHORT_MAX:
        errors["cohort"] = [f"A cohort name has at most {COHORT_MAX} characters."]
    if not is_cohort_size(cohort_size):
        errors["cohort_size"] = [
            f"Give the default cohort size (LMS exports carry none), from 1 to {COHORT_SIZE_MAX:,}."
        ]
    if missing := unknown_systems(systems=systems):
        errors["systems"] = [f"Unknown system(s): {', '.join(missing)}."]
    if interval < MIN_FEED_INTERVAL:
        errors["interval"] = ["Sync at most every 5 minutes (PT5M)."]
    elif interval > MAX_FEED_INTERVAL:
        errors["interval"] = ["Sync at least every 30 days (P30D)."]
    if errors:
        raise InvalidInput("The deadline feed is not valid.", fields=errors)


@transaction.atomic
def deadline_feed_create(
    *,
    team: Team,
    url: str,
    cohort_size: int,
    feed_format: str = FeedFormat.ICS,
    cohort: str = "",
    systems: Iterable[str] = (),
    interval: timedelta = timedelta(hours=1),
    enabled: bool = True,
    by: User | None = None,
    now: datetime | None = None,
) -> DeadlineFeed:
    check_can_publish(by=by, team=team)
    systems = list(systems)
    url, cohort = url.strip(), cohort.strip()
    check_deadline_feed(
        url=url,
        feed_format=feed_format,
        cohort=cohort,
        cohort_size=cohort_size,
        systems=systems,
        interval=interval,
    )
    feed = DeadlineFeed.objects.create(
        team=team,
        url=url,
        format=feed_format,
        cohort=cohort,
        cohort_size=cohort_size,
        interval=interval,
        enabled=enabled,
        created_by=by,
        next_sync_at=now or timezone.now(),
    )
    feed.systems.set(System.objects.filter(slug__in=systems))
    return feed


@transaction.atomic
def deadline_feed_update(
    *,
    feed: DeadlineFeed,
    by: User | None = None,
    now: datetime | None = None,
    **changes: object,
) -> DeadlineFeed:
    check_can_publish(by=by, team=feed.team)
    if isinstance(new_team := changes.get("team"), Team):
        check_can_publish(by=by, team=new_team)
    allowed = _RESYNC_ON | {"interval", "enabled"}
    if unknown := set(changes) - allowed:
        raise InvalidInput(f"Cannot change {', '.join(sorted(unknown))} on a deadline feed.")
    now = now or timezone.now()
    old_systems = sorted(feed.systems.values_list("slug", flat=True))
    systems = sorted(changes.pop("systems", old_systems))  # type: ignore[call-overload]
    before = {key: getattr(feed, key) for key in changes} | {"systems": old_systems}
    for key, value in changes.items():
        setattr(feed, key, value.strip() if isinstance(value, str) else value)
    check_deadline_feed(
        url=feed.url,
        feed_format=feed.format,
        cohort=feed.cohort,
        cohort_size=feed.cohort_size,
        systems=systems,
        interval=feed.interval,
    )
    after = {key: getattr(feed, key) for key in changes} | {"systems": systems}
    changed = {key for key in after if after[key] != before[key]}
    if changed & _RESYNC_ON or ("enabled" in changed and feed.enabled):
        feed.etag, feed.last_modified, feed.next_sync_at = "", "", now
    elif feed.next_sync_at and feed.next_sync_at > now + feed.interval:
        feed.next_sync_at = now + feed.interval
    feed.save()
    feed.systems.set(System.objects.filter(slug__in=systems))
    return feed


@transaction.atomic
def deadline_feed_delete(
    *, feed: DeadlineFeed, by: User | None = None, now: datetime | None = None
) -> None:
    """Remove a feed; its live deadlines are withdrawn (their rows stay as history)."""
    check_can_publish(by=by, team=feed.team)
    for deadline in feed.deadlines.filter(withdrawn_at__isnull=True):
        deadline_withdraw(deadline=deadline, now=now)
    feed.delete()

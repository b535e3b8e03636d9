"""Occurrences that apps could expand differently, published as explicit instances.

Clearway's window for an occurrence is its local start plus the wall-clock
duration (scheduling.recurrence). Apps read DTEND - DTSTART either as that
wall-clock length (most libraries) or as an exact one (RFC 5545 3.8.5.3), and
a start in a spring-forward gap can even come out after its end. Wherever a
reading differs from Clearway's window (an occurrence that starts in or spans
a DST change) the feed adds an instance with RECURRENCE-ID and explicit times,
so every app shows what Clearway decides on.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings

from scheduling import recurrence
from scheduling.calendar_feeds.sources import FeedEvent
from scheduling.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class Override:
    recurrence_id: datetime  # the rule's local start, as an app generates it
    start: datetime
    end: datetime


def dst_overrides(event: FeedEvent) -> list[Override]:
    if not event.rrule or event.end is None or event.zone == "UTC":
        return []
    tz = recurrence.stored_zone(event.zone)
    local_start = event.start.astimezone(tz)
    exact = event.end - event.start
    wall = event.end.astimezone(tz).replace(tzinfo=None) - local_start.replace(tzinfo=None)
    try:
        # Clearway's own windows (exdates kept, so they pair with the rule).
        windows = recurrence.expand(
            rrule_text=event.rrule,
            start=event.start,
            end=event.end,
            zone_name=event.zone,
            before=event.expand_until,
            cap=settings.CLEARWAY_MAX_RULE_OCCURRENCES,
        )
        nominal = recurrence.build_rule(rrule_text=event.rrule, dtstart=local_start)
    except InvalidInput:
        return []  # a rule saved under older limits: publish the plain series
    excluded = {moment.astimezone(UTC) for moment in event.exdates}
    found = []
    for local, window in zip(nominal, windows, strict=False):  # one rule, one order
        if window.start in excluded:
            continue
        as_wall_clock = (local.replace(tzinfo=None) + wall).replace(tzinfo=tz).astimezone(UTC)
        app_start = local.astimezone(UTC)  # a gap time reads with the offset before it
        if (app_start, as_wall_clock) != (window.start, window.end) or (
            window.end - window.start != exact
        ):
            found.append(Override(recurrence_id=local, start=window.start, end=window.end))
    return found

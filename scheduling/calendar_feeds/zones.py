"""VTIMEZONE components built from zoneinfo's own transitions.

icalendar 7.3.0's Timezone.from_tzinfo writes each spring-forward onset as the
first wall-clock time after the change (03:00 in New York) beside the offset
*before* it, which RFC 5545 (3.6.5) reads as an hour too late: an app that
trusts the VTIMEZONE would misplace times in that hour. Here each onset is the
UTC instant of the change read in the offset before it, as the RFC says.
"""

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import Timezone, TimezoneDaylight, TimezoneStandard

# Clearway has nothing before 2000; past 2070 apps use their own tz data.
FIRST = datetime(2000, 1, 1, tzinfo=UTC)
LAST = datetime(2070, 1, 1, tzinfo=UTC)
_STEP = timedelta(days=1)  # no zone changes twice within a day


def _observance(zone: ZoneInfo, instant: datetime) -> tuple[timedelta, str, bool]:
    local = instant.astimezone(zone)
    return local.utcoffset(), local.tzname() or "", bool(local.dst())


def transitions(zone: ZoneInfo, *, first: datetime = FIRST, last: datetime = LAST):
    """(UTC instant, offset before, offset after, name after, DST after) of each change."""
    found = []
    moment, before = first, _observance(zone, first)
    while moment < last:
        following = moment + _STEP
        after = _observance(zone, following)
        if after != before:
            lo, hi = moment, following
            while hi - lo > timedelta(seconds=1):
                middle = lo + (hi - lo) / 2
                if _observance(zone, middle) == before:
                    lo = middle
                else:
                    hi = middle
            onset = hi.replace(microsecond=0)
            found.append((onset, before[0], after[0], after[1], after[2]))
        moment, before = following, after
    return found


@lru_cache(maxsize=64)
def vtimezone(zone_name: str) -> bytes:
    """The VTIMEZONE text of an IANA zone, cached per process (it takes ~50 ms)."""
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return b""  # not a zone Clearway accepts; apps use their own data
    groups: dict[tuple[timedelta, timedelta, str, bool], list[datetime]] = defaultdict(list)
    offset, name, dst = _observance(zone, FIRST)
    groups[(offset, offset, name, dst)].append(FIRST + offset)
    for instant, before, after, name, dst in transitions(zone):
        groups[(before, after, name, dst)].append(instant + before)
    component = Timezone()
    component.add("tzid", zone_name)
    for (before, after, name, dst), onsets in groups.items():
        observance = TimezoneDaylight() if dst else TimezoneStandard()
        observance.add("tzname", name)
        observance.add("tzoffsetfrom", before)
        observance.add("tzoffsetto", after)
        # Onsets are local times in the offset before the change, without a zone.
        local = [onset.replace(tzinfo=None) for onset in onsets]
        observance.add("dtstart", local[0])
        if len(local) > 1:
            observance.add("rdate", local[1:])
        component.add_component(observance)
    return component.to_ical()

"""VTIMEZONE components written the way calendar servers write them.

Each zone's changes come from zoneinfo itself (a day-by-day walk, then a
bisection to the second). Changes that follow a yearly rule ("second Sunday of
March at 02:00") become one STANDARD or DAYLIGHT component per rule era with
`RRULE:FREQ=YEARLY;BYMONTH=..;BYDAY=..` (and an UNTIL when the era ends);
irregular changes become components whose every RDATE property holds a single
value. ical.js (Thunderbird, many web calendars) reads only the first value of
a comma-separated RDATE list, so writing all changes as one list put New York
at -05:00 all year for it.

Every onset is the local time of the change read in the offset before it, as
RFC 5545 (3.6.5) says (icalendar's own Timezone.from_tzinfo writes 03:00 for
New York's spring change, an hour late).

Zone data does not change while a process runs, so each zone's text is built
once (about 50 ms) and kept for the life of the process: the keys are the
zones zoneinfo knows, a bounded set.
"""

import calendar
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from icalendar import Timezone, TimezoneDaylight, TimezoneStandard, vRecur

# Clearway has nothing before 2000; past 2070 apps use their own tz data.
FIRST = datetime(2000, 1, 1, tzinfo=UTC)
LAST = datetime(2070, 1, 1, tzinfo=UTC)
_STEP = timedelta(days=1)  # no zone changes twice within a day
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
# A rule era needs this many yearly changes in a row; fewer are written as RDATEs.
_MIN_ERA = 3


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


@dataclass(frozen=True)
class _Change:
    """One change: its observance (offsets, name, DST) and local onset."""

    before: timedelta
    after: timedelta
    name: str
    dst: bool
    onset: datetime  # naive local time in the offset before the change

    @property
    def kind(self) -> tuple[timedelta, timedelta, str, bool]:
        return (self.before, self.after, self.name, self.dst)

    def rules(self) -> set[tuple[int, str, time]]:
        """The yearly rules this onset fits: (month, BYDAY, time), nth and last weekday."""
        day = self.onset.date()
        weekday = _WEEKDAYS[day.weekday()]
        found = {(day.month, f"{(day.day - 1) // 7 + 1}{weekday}", self.onset.time())}
        if day.day + 7 > calendar.monthrange(day.year, day.month)[1]:
            found.add((day.month, f"-1{weekday}", self.onset.time()))
        return found


def _eras(changes: list[_Change]) -> tuple[list[tuple[list[_Change], tuple]], list[_Change]]:
    """Split one observance's changes into yearly-rule eras and irregular leftovers."""
    eras, leftovers = [], []
    run: list[_Change] = []
    shared: set = set()
    for change in [*changes, None]:
        if change is not None and run:
            common = shared & change.rules()
            if common and change.onset.year == run[-1].onset.year + 1:
                run.append(change)
                shared = common
                continue
        if len(run) >= _MIN_ERA:
            # Prefer "last Sunday" over "fifth Sunday" when both fit, then the lowest.
            eras.append((run, sorted(shared, key=lambda r: (not r[1].startswith("-"), r[1]))[0]))
        else:
            leftovers.extend(run)
        run = [change] if change is not None else []
        shared = change.rules() if change is not None else set()
    return eras, leftovers


def _component(change: _Change) -> TimezoneStandard | TimezoneDaylight:
    observance = TimezoneDaylight() if change.dst else TimezoneStandard()
    observance.add("tzname", change.name)
    observance.add("tzoffsetfrom", change.before)
    observance.add("tzoffsetto", change.after)
    observance.add("dtstart", change.onset)
    return observance


def _build(zone_name: str, zone: ZoneInfo) -> bytes:
    offset, name, dst = _observance(zone, FIRST)
    # The zone as it stood when Clearway's range begins, for anything earlier.
    opening = _Change(offset, offset, name, dst, (FIRST + offset).replace(tzinfo=None))
    by_kind: dict[tuple, list[_Change]] = {}
    changes = [
        _Change(before, after, name, dst, (instant + before).replace(tzinfo=None))
        for instant, before, after, name, dst in transitions(zone)
    ]
    last_year = max((c.onset.year for c in changes), default=FIRST.year)
    for change in changes:
        by_kind.setdefault(change.kind, []).append(change)

    component = Timezone()
    component.add("tzid", zone_name)
    component.add_component(_component(opening))
    for kind_changes in by_kind.values():
        eras, leftovers = _eras(kind_changes)
        for run, (month, byday, _) in eras:
            observance = _component(run[0])
            rule = {"FREQ": "YEARLY", "BYMONTH": month, "BYDAY": byday}
            if run[-1].onset.year < last_year:
                # UNTIL in UTC (RFC 5545), a day after the era's last onset: the
                # same changes (the next would be a year later), and readers that
                # compare it with the local onset as if it were local still
                # keep the last one (dateutil's tzical does).
                until = run[-1].onset - run[-1].before + timedelta(days=1)
                rule["UNTIL"] = until.replace(tzinfo=UTC)
            # An era still running at the end of the range goes on: so do the zone's rules.
            observance.add("rrule", vRecur(rule))
            component.add_component(observance)
        if leftovers:
            observance = _component(leftovers[0])
            # One value per RDATE property, the first onset included: ical.js
            # ignores DTSTART in a component that has RDATEs.
            for change in leftovers:
                observance.add("rdate", change.onset)
            component.add_component(observance)
    return component.to_ical()


_built: dict[str, bytes] = {}
_lock = threading.Lock()


def vtimezone(zone_name: str) -> bytes:
    """The VTIMEZONE text of an IANA zone, built once per process."""
    text = _built.get(zone_name)
    if text is not None:
        return text
    if zone_name not in _known():
        return b""  # not a zone Clearway accepts; apps use their own data
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return b""
    with _lock:
        if zone_name not in _built:
            _built[zone_name] = _build(zone_name, zone)
        return _built[zone_name]


_known_names: frozenset[str] = frozenset()


def _known() -> frozenset[str]:
    global _known_names
    if not _known_names:
        _known_names = frozenset(available_timezones())
    return _known_names

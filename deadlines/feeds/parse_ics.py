"""iCalendar files as Moodle and Canvas export them: each VEVENT is a deadline.

The due instant is DTEND when present (both LMSes set DTEND = DTSTART = the
due time), else DTSTART plus DURATION, else DTSTART. An all-day event is due
at the end of its last day in the feed's zone (X-WR-TIMEZONE, else UTC): the
midnight that ends the day, so the deadline is a date until it meets a zone.
TZID parameters and VTIMEZONE blocks are resolved by icalendar; floating
times are read in the feed's zone.

Recurring events are expanded by scheduling.recurrence in their own zone,
within [since, until) and under a cap per rule. dateutil walks a rule from
its DTSTART, so a rule that fires every second since 2001 would walk for
hours before reaching `since`: a step budget per file stops that first.
An event that cannot be read is skipped and reported; the rest still count.
"""

import threading
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from icalendar import Calendar
from icalendar.timezone import tzp

from deadlines.entries import COURSE_MAX, TITLE_MAX, UID_MAX, Entry, Parsed, Problem
from deadlines.feeds.errors import FeedError
from deadlines.feeds.ics_texts import EventSkipped as _Skip
from deadlines.feeds.ics_texts import course_of as _course
from deadlines.feeds.ics_texts import given_twice as _given_twice
from deadlines.feeds.ics_texts import overlong as _overlong
from deadlines.feeds.ics_texts import overrides as _overrides
from deadlines.feeds.ics_texts import single_text_of as _single_text
from deadlines.feeds.ics_texts import text_of as _text
from scheduling.errors import InvalidInput
from scheduling.instants import RANGE_MESSAGE
from scheduling.recurrence import (
    RuleBudgetSpent,
    build_rule,
    check_rule_text,
    expand,
    rule_work_budget,
    zone,
)
from scheduling.text import is_blank

_ZONE_CACHE_LOCK = threading.Lock()
_TIMING = ("DTSTART", "DTEND", "DURATION", "RRULE", "RDATE", "EXDATE", "RECURRENCE-ID")
# Room for "#YYYYMMDDTHHMMSSZ" after the UID of a recurring event's occurrence.
_OCCURRENCE_SUFFIX = 17


@dataclass(frozen=True, slots=True)
class Window:
    """Where recurring events are expanded, and the limits that keep a hostile file cheap."""

    since: datetime
    until: datetime
    max_events: int
    max_occurrences: int  # per recurring event
    max_rule_steps: int = 100_000  # per file, walking rules up to `since`
    # dateutil's steps for every rule of the file together, matching or not
    # (scheduling.recurrence.MAX_RULE_STEPS): about 0.2 s on an idle core. Weekly
    # events recurring since years back cost 52 steps a year each, twice.
    max_rule_work: int = 50_000


def feed_window(*, now: datetime) -> Window:
    """From the oldest traffic window still open to the horizon, with the configured limits."""
    return Window(
        since=now - settings.CLEARWAY_TRAFFIC_TAIL,
        until=now + timedelta(days=settings.CLEARWAY_HORIZON_DAYS),
        max_events=settings.CLEARWAY_FEED_MAX_EVENTS,
        max_occurrences=min(
            settings.CLEARWAY_FEED_MAX_OCCURRENCES, settings.CLEARWAY_MAX_RULE_OCCURRENCES
        ),
    )


class _Budget:
    def __init__(self, steps: int) -> None:
        self.steps = steps

    def walk(self, *, rule_text: str, start: datetime, until: datetime) -> None:
        """Spend one step per occurrence before `until`; too many skips the event."""
        rule = build_rule(rrule_text=rule_text, dtstart=start, field="RRULE")
        for occurrence in rule:
            if occurrence >= until:
                return
            self.steps -= 1
            if self.steps < 0:
                raise _Skip(
                    "RRULE",
                    "The rule repeats too often before today to expand "
                    "(e.g. FREQ=SECONDLY since long ago); give it a later DTSTART or an UNTIL.",
                )


def parse_ics(data: bytes, *, window: Window, default_zone: str = "UTC") -> Parsed:
    calendar = _load(data)
    parsed = Parsed()
    feed_zone = _feed_zone(calendar, default_zone, parsed)
    events = [c for c in calendar.subcomponents if c.name == "VEVENT"]
    if len(events) > window.max_events:
        raise FeedError(f"The feed has {len(events):,} events; the limit is {window.max_events:,}.")
    with rule_work_budget(window.max_rule_work):
        try:
            return _parse_events(events, feed_zone=feed_zone, window=window, parsed=parsed)
        except RuleBudgetSpent as exc:
            raise FeedError(
                "The file's recurring rules take too much work to expand (rules that match "
                "rarely or never); nothing was imported."
            ) from exc


def _parse_events(events, *, feed_zone: ZoneInfo, window: Window, parsed: Parsed) -> Parsed:
    overridden = _overridden(events, feed_zone)
    budget = _Budget(window.max_rule_steps)
    seen: set[str] = set()  # UIDs of events that are not RECURRENCE-ID overrides
    moved: set[tuple[str, datetime]] = set()  # (UID, RECURRENCE-ID) of the overrides
    for number, event in enumerate(events, start=1):
        uid = _text(event, "UID").strip()
        where = f"event {number}" + (f" (UID {uid})" if uid else "")
        master = "RECURRENCE-ID" not in event
        repeated = None
        try:
            repeated = _repeated(
                event, uid=uid, master=master, seen=seen, moved=moved, feed_zone=feed_zone
            )
            if repeated is not None:
                raise repeated
            entries = _entries(
                event,
                uid=uid,
                where=where,
                feed_zone=feed_zone,
                window=window,
                budget=budget,
                overridden=overridden[uid],
            )
        except _Skip as skip:
            # The sync keeps the deadlines a broken event made (`uid`, `uid#...`),
            # but not for a duplicate: the first event with that UID (or the
            # first override of that occurrence) still counts.
            keep = "" if skip is repeated else uid
            parsed.problems.append(Problem(where, skip.field, skip.message, keep))
            if master:
                seen.add(uid)
            continue
        if master:
            seen.add(uid)
        if entries:
            parsed.problems.extend(_overlong(event, uid=uid, where=where))
        parsed.entries.extend(entries)
        if len(parsed.entries) > window.max_events:
            raise FeedError(
                f"The feed has more than {window.max_events:,} deadlines once recurring "
                "events are expanded."
            )
    return parsed


def _repeated(
    event: Any,
    *,
    uid: str,
    master: bool,
    seen: set[str],
    moved: set[tuple[str, datetime]],
    feed_zone: ZoneInfo,
) -> _Skip | None:
    """Why the event repeats one read before (its UID, or the occurrence it overrides)."""
    if master:
        if uid in seen:
            return _Skip("UID", "Another event has the same UID; only the first one is used.")
        return None
    # Compared as instants: one occurrence may be named in another zone.
    occurrence = (uid, _recurrence_id(event, feed_zone))
    if occurrence in moved:
        # Two overrides of one occurrence (09:00 and 11:00) name two dues for
        # one deadline; keeping the last silently would hide the feed's mistake.
        return _Skip(
            "RECURRENCE-ID",
            "Another event overrides the same occurrence; only the first one is used.",
        )
    moved.add(occurrence)
    return None


def _load(data: bytes) -> Calendar:
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head[:15].upper().startswith(b"BEGIN:VCALENDAR"):
        start = head[:40].decode("utf-8", errors="replace")
        raise FeedError(f"This is not an iCalendar file: it begins with {start!r}.")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        # icalendar reads such bytes as U+FFFD: "Café" in Latin-1 became "Caf?".
        line = data.count(b"\n", 0, exc.start) + 1
        raise FeedError(
            f"The iCalendar file is not UTF-8 text (byte 0x{data[exc.start]:02X} on line "
            f"{line}); save or export it as UTF-8."
        ) from None
    if not data.rstrip().upper().endswith(b"END:VCALENDAR"):
        raise FeedError(
            "The iCalendar file is cut off: it does not end with END:VCALENDAR "
            "(the download was truncated?)."
        )
    try:
        return _from_ical(data)
    except Exception as exc:  # icalendar raises ValueError, KeyError, RecursionError ...
        raise FeedError(f"The iCalendar file cannot be read: {exc}") from None


def _from_ical(data: bytes) -> Calendar:
    """The calendar, its TZIDs read with the zones this file defines and no other.

    icalendar caches each VTIMEZONE it meets for the whole process, and keeps
    the first definition of a name: one team's upload defining "Campus Time"
    as UTC+1 made another's feed, defining it as UTC+5, due four hours off, and
    a file defining none used it too. The cache is emptied around each parse
    (icalendar 7 offers no way to parse without it), one file at a time.
    tests/deadlines/test_feed_parse.py fails if icalendar renames the cache.
    """
    with _ZONE_CACHE_LOCK:
        cache = tzp._TZP__tz_cache  # type: ignore[attr-defined]
        cache.clear()
        try:
            return Calendar.from_ical(data)
        finally:
            cache.clear()


def _feed_zone(calendar: Calendar, default: str, parsed: Parsed) -> ZoneInfo:
    name = _text(calendar, "X-WR-TIMEZONE").strip()
    if name:
        try:
            return zone(name, field="X-WR-TIMEZONE")
        except InvalidInput:
            parsed.problems.append(
                Problem("calendar", "X-WR-TIMEZONE", f"Unknown zone {name!r}; using {default}.")
            )
    return ZoneInfo(default)


def _value(event: Any, name: str) -> Any:
    prop = event.get(name)
    if prop is None:
        return None
    if isinstance(prop, list):
        raise _given_twice(name)
    try:
        value = prop.dt
    except Exception as exc:
        raise _Skip(name, f"{name} is not a date or date-time: {exc}") from None
    tzid = getattr(prop, "params", {}).get("TZID")
    if tzid and isinstance(value, datetime) and value.tzinfo is None:
        # icalendar leaves a time in a zone it cannot resolve floating: it
        # would be read in the feed's zone without a word.
        raise _Skip(
            name,
            f"{name} is in zone {str(tzid)[:64]!r}, which the file does not define "
            "(VTIMEZONE) and which is not an IANA name such as Europe/London.",
        )
    return value


def _aware(value: date, tz: ZoneInfo) -> datetime:
    """A date-time in its own zone; a floating one (or a date's midnight) in the feed's zone."""
    if not isinstance(value, datetime):
        return datetime.combine(value, time.min, tzinfo=tz)
    return value if value.tzinfo is not None else value.replace(tzinfo=tz)


def _span(event: Any, feed_zone: ZoneInfo) -> tuple[datetime, datetime]:
    """(start, due) of the event's first occurrence, both aware."""
    for name, message in getattr(event, "errors", []):
        if name in _TIMING:
            raise _Skip(name, f"{name} cannot be read: {message}")
    start_value = _value(event, "DTSTART")
    if start_value is None:
        raise _Skip("DTSTART", "The event has no DTSTART.")
    end_value = _value(event, "DTEND")
    duration = _value(event, "DURATION")
    if duration is not None and not isinstance(duration, timedelta):
        raise _Skip("DURATION", "DURATION is not a duration such as PT1H.")
    if type(end_value) is date and type(start_value) is date and end_value < start_value:
        raise _Skip("DTEND", "DTEND is before DTSTART.")  # all day; the same day is Canvas's
    try:
        start = _aware(start_value, feed_zone)
        if not isinstance(start_value, datetime):
            # All day: due when the last day ends. DTEND is exclusive (RFC 5545),
            # but Canvas repeats the start date there, so never end before one day.
            last = start_value
            if end_value is not None and not isinstance(end_value, datetime):
                last = max(last, end_value - timedelta(days=1))
            elif duration is not None:
                last = max(last, start_value + timedelta(days=duration.days - 1))
            due = (
                _aware(end_value, feed_zone)
                if isinstance(end_value, datetime)
                else _aware(last + timedelta(days=1), feed_zone)
            )
        elif end_value is not None:
            due = _aware(end_value, feed_zone)
        else:
            due = start + duration if duration is not None else start
    except OverflowError:
        # The due time falls past 31 Dec 9999 (an all-day event on that day,
        # a huge DURATION): outside the calendar, like any year the checks refuse.
        raise _Skip("DTEND", RANGE_MESSAGE) from None
    if due < start:
        raise _Skip("DTEND", "DTEND is before DTSTART.")
    return start, due


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _recurrence_id(event: Any, feed_zone: ZoneInfo) -> datetime:
    """The occurrence an override replaces, as a UTC instant, or why it names none."""
    value = _value(event, "RECURRENCE-ID")
    # A PERIOD or a duration names no occurrence (and broke the arithmetic).
    if not isinstance(value, date):
        raise _Skip("RECURRENCE-ID", "RECURRENCE-ID is not a date or date-time.")
    try:
        return _aware(value, feed_zone).astimezone(UTC)
    except OverflowError:
        raise _Skip("RECURRENCE-ID", RANGE_MESSAGE) from None


def _overridden(events: list[Any], feed_zone: ZoneInfo) -> dict[str, set[datetime]]:
    """Per UID, the occurrences that a RECURRENCE-ID event replaces (or cancels)."""
    found: dict[str, set[datetime]] = defaultdict(set)
    for event in events:
        if "RECURRENCE-ID" in event:
            try:
                moment = _recurrence_id(event, feed_zone)
            except _Skip:
                continue  # reported when the event itself is read
            found[_text(event, "UID").strip()].add(moment)
    return found


def _entries(
    event: Any,
    *,
    uid: str,
    where: str,
    feed_zone: ZoneInfo,
    window: Window,
    budget: _Budget,
    overridden: set[datetime],
) -> list[Entry]:
    if not uid:
        raise _Skip("UID", "The event has no UID, so it cannot be kept in step with the feed.")
    if isinstance(event.get("UID"), list):
        raise _given_twice("UID")
    if len(uid) > UID_MAX - _OCCURRENCE_SUFFIX:
        raise _Skip("UID", f"A UID has at most {UID_MAX - _OCCURRENCE_SUFFIX} characters here.")
    start, due = _span(event, feed_zone)
    if _single_text(event, "STATUS").strip().upper() == "CANCELLED":
        return []  # as if absent: a deadline it made earlier is withdrawn
    title = _single_text(event, "SUMMARY")
    if is_blank(title):
        raise _Skip("SUMMARY", "The event has no title (SUMMARY).")
    common = {
        "title": title[:TITLE_MAX],
        "course": _course(event, title)[:COURSE_MAX],
        **_overrides(event),
    }
    if "RECURRENCE-ID" in event:
        moment = _recurrence_id(event, feed_zone)
        return [Entry(where=where, due=due, uid=f"{uid}#{_stamp(moment)}", **common)]
    if "RRULE" not in event:
        return [Entry(where=where, due=due, uid=uid, **common)]
    dues = _occurrence_dues(
        event, start=start, due=due, feed_zone=feed_zone, window=window, budget=budget
    )
    return [
        Entry(
            where=f"{where} on {moment:%Y-%m-%d}",
            due=occurrence_due,
            uid=f"{uid}#{stamp}",
            **common,
        )
        for moment, occurrence_due in dues
        if moment not in overridden
        for stamp in [_stamp(moment)]
    ]


def _zone_name(tz: tzinfo | None) -> str | None:
    if isinstance(tz, ZoneInfo):
        return tz.key
    if tz is UTC:
        return "UTC"
    return None


def _occurrence_dues(
    event: Any,
    *,
    start: datetime,
    due: datetime,
    feed_zone: ZoneInfo,
    window: Window,
    budget: _Budget,
) -> list[tuple[datetime, datetime]]:
    """(occurrence start in UTC, its due instant) for each occurrence in the window."""
    zone_name = _zone_name(start.tzinfo)
    if zone_name is None:
        raise _Skip(
            "DTSTART",
            f"A recurring event needs an IANA zone (such as Europe/London), not {start.tzinfo}.",
        )
    rule = event.get("RRULE")
    if isinstance(rule, list):
        raise _Skip("RRULE", "The event has more than one RRULE.")
    rule_text = rule.to_ical().decode()
    length = due - start
    # expand() needs a window with a length; a zero-length event is due at its start.
    end = due if length else start + timedelta(seconds=1)
    exdates = [_aware(moment, start.tzinfo) for moment in _dates(event, "EXDATE", start)]
    try:
        check_rule_text(rule_text, field="RRULE")
        budget.walk(rule_text=rule_text, start=start, until=window.since - length)
        occurrences = expand(
            rrule_text=rule_text,
            start=start,
            end=end,
            zone_name=zone_name,
            exdates=exdates,
            after=window.since,
            before=window.until,
            cap=window.max_occurrences,
            field="RRULE",
        )
    except RuleBudgetSpent:
        raise
    except InvalidInput as exc:
        raise _Skip("RRULE", exc.message) from None
    found = {o.start: (o.end if length else o.start) for o in occurrences}
    for moment in _dates(event, "RDATE", start):
        extra = _aware(moment, start.tzinfo).astimezone(UTC)
        if window.since <= extra + length < window.until:
            found.setdefault(extra, extra + length)
    return sorted(found.items())


def _dates(event: Any, name: str, start: datetime) -> list[datetime]:
    """EXDATE/RDATE values; a date alone means the occurrence at the start's time that day."""
    props = event.get(name)
    found = []
    for prop in props if isinstance(props, list) else [props] if props is not None else []:
        for value in getattr(prop, "dts", []):
            moment = value.dt
            if isinstance(moment, tuple):  # RDATE;VALUE=PERIOD: its start
                moment = moment[0]
            if not isinstance(moment, datetime):
                moment = datetime.combine(moment, start.timetz().replace(tzinfo=None))
            found.append(moment)
    return found

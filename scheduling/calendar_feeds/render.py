"""iCalendar text for one event, and the calendar's frame, written with icalendar.

Recurring events are published as one VEVENT whose DTSTART, DTEND and EXDATEs
are wall-clock times with the rule's TZID, plus a VTIMEZONE for that zone, so a
calendar app expands the RRULE in local time exactly as scheduling.recurrence
does (and occurrences DST makes ambiguous as explicit instances, see
overrides). One-off events and deadlines are plain UTC instants.
"""

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from icalendar import Calendar, Event, vCategory, vDuration, vRecur, vText
from icalendar.parser import Contentline

from scheduling import recurrence
from scheduling.calendar_feeds.overrides import dst_overrides
from scheduling.calendar_feeds.sources import FeedEvent
from scheduling.calendar_feeds.zones import vtimezone

PRODID = "-//Clearway//Calendar feeds//EN"
# How often apps should fetch again (RFC 7986 REFRESH-INTERVAL and the older
# X-PUBLISHED-TTL that Outlook and Apple read): conditional GETs make it cheap.
REFRESH = timedelta(minutes=30)
END = b"END:VCALENDAR\r\n"


def _local(moment: datetime, zone_name: str) -> datetime:
    if zone_name == "UTC":
        return moment.astimezone(UTC)
    return moment.astimezone(recurrence.stored_zone(zone_name))


def _rule(event: FeedEvent) -> vRecur:
    text = recurrence.normalise_rrule(event.rrule)
    # RFC 5545 wants UNTIL in UTC beside a zoned DTSTART. Clearway accepts a
    # local or date-only UNTIL; recurrence's own rewrite keeps its meaning.
    text = recurrence._normalise_until(text, recurrence.stored_zone(event.zone), field="rrule")
    return vRecur.from_ical(text)


class _Text(vText):
    """TEXT escaped as RFC 5545 says, and nothing more.

    icalendar first turns a literal `\\N` into a line break, so a title such
    as `Copy \\\\NAS01\\backups` showed as two lines in calendar apps.
    """

    __slots__ = ()

    def to_ical(self) -> bytes:
        return _text(self).encode(self.encoding)


def _categories(value: str) -> vCategory:
    categories = vCategory([value])
    categories.cats = [_Text(value)]
    return categories


def _describe(component: Event, event: FeedEvent) -> None:
    component.add("uid", _Text(event.uid))
    # Without METHOD, DTSTAMP is when the event was last revised (RFC 5545
    # 3.8.7.2): it depends only on the row, so the text can be cached.
    component.add("dtstamp", event.modified.astimezone(UTC))
    component.add("last-modified", event.modified.astimezone(UTC))
    component.add("sequence", event.sequence)
    component.add("summary", _Text(event.summary))
    component.add("description", _Text(event.description))
    component.add("url", event.url)
    component.add("categories", _categories(event.category))
    component.add("status", _Text(event.status))
    # Maintenance and traffic do not make the subscriber busy.
    component.add("transp", "TRANSPARENT")


def components(event: FeedEvent) -> list[Event]:
    """The event's VEVENT, then one instance per occurrence DST makes ambiguous."""
    master = Event()
    _describe(master, event)
    master.add("dtstart", _local(event.start, event.zone))
    if event.end is not None:
        master.add("dtend", _local(event.end, event.zone))
    if not event.rrule:
        return [master]
    master.add("rrule", _rule(event))
    if event.exdates:
        master.add("exdate", [_local(moment, event.zone) for moment in event.exdates])
    found = [master]
    for override in dst_overrides(event):
        instance = Event()
        _describe(instance, event)
        instance.add("recurrence-id", override.recurrence_id)
        # In UTC: an instance in the repeated autumn hour has a local time
        # that names two instants, and ical.js reads it as the second.
        instance.add("dtstart", override.start.astimezone(UTC))
        instance.add("dtend", override.end.astimezone(UTC))
        found.append(instance)
    return found


def render_events(events: Iterable[FeedEvent]) -> bytes:
    return b"".join(_event_text(event) for event in events)


def _event_text(event: FeedEvent) -> bytes:
    if event.rrule or event.zone != "UTC":
        return b"".join(to_ical(component) for component in components(event))
    return _one_off(event)


def _one_off(event: FeedEvent) -> bytes:
    """A one-off UTC event's VEVENT, written as icalendar writes `components(event)`.

    Nearly every event in a feed (every deadline, every job window) is one:
    building icalendar's objects for it was four fifths of a feed sync's
    texts. Its properties come in icalendar's order: the canonical ones, then
    the rest alphabetically (a hypothesis test compares both on any text).
    """
    revised = _utc(event.modified)
    lines = [
        "BEGIN:VEVENT",
        "SUMMARY:" + _text(event.summary),
        "DTSTART:" + _utc(event.start),
        *(() if event.end is None else ("DTEND:" + _utc(event.end),)),
        "DTSTAMP:" + revised,
        "UID:" + _text(event.uid),
        f"SEQUENCE:{event.sequence}",
        "CATEGORIES:" + _text(event.category),
        "DESCRIPTION:" + _text(event.description),
        "LAST-MODIFIED:" + revised,
        "STATUS:" + _text(event.status),
        "TRANSP:TRANSPARENT",
        "URL:" + event.url,
        "END:VEVENT",
    ]
    return b"".join(_line(line) + b"\r\n" for line in lines)


def _utc(moment: datetime) -> str:
    # Zero-padded by hand: strftime's %Y does not pad years before 1000.
    m = moment.astimezone(UTC)
    return f"{m.year:04d}{m.month:02d}{m.day:02d}T{m.hour:02d}{m.minute:02d}{m.second:02d}Z"


def _text(value: str) -> str:
    """RFC 5545 TEXT escaping, in icalendar's order but for its first step, which
    read a typed backslash and N as a line break."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def _line(line: str) -> bytes:
    if not line.isascii():
        return Contentline(line).to_ical()
    return (line if len(line) < _FOLD_AT else _fold_ascii(line)).encode()


def _fold_ascii(line: str) -> str:
    """icalendar's fold of an ASCII line, by slices: pieces of 74 characters, a backslash
    or caret at a piece's end carried to the next so no escape is split."""
    pieces = []
    start = 0
    while len(line) - start >= _FOLD_AT:
        end = start + _FOLD_AT - 1
        if line[end - 1] in "\\^":
            end -= 1
        pieces.append(line[start:end])
        start = end
    pieces.append(line[start:])
    return "\r\n ".join(pieces)


# icalendar folds every content line a character at a time, though most are
# shorter than a fold: that was two fifths of rendering an event.
_FOLD_AT = 75


def to_ical(component: Event) -> bytes:
    """`component.to_ical()`, byte for byte, folding only the lines long enough to fold."""
    return b"\r\n".join(_line(line) for line in component.content_lines() if line) + b"\r\n"


def header(*, name: str, description: str, zones: Iterable[str], default_zone: str) -> bytes:
    """Everything before the first VEVENT: properties, then one VTIMEZONE per zone."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("name", name)
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-caldesc", description)
    calendar.add("x-wr-timezone", default_zone)
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(REFRESH))
    text = calendar.to_ical()
    assert text.endswith(END)
    frame = text[: -len(END)]
    return frame + b"".join(vtimezone(zone) for zone in sorted(set(zones) - {"UTC"}))

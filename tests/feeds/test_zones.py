"""VTIMEZONE text: yearly rules per era, single-value RDATEs, each change where zoneinfo puts it."""

import io
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from dateutil import tz as dateutil_tz
from icalendar import Calendar

from scheduling.calendar_feeds import zones
from scheduling.calendar_feeds.zones import transitions, vtimezone
from tests.feeds import icaljs

# Northern, southern, none, 30-minute, plus zones whose rules changed or are irregular.
TRICKY = (
    "America/New_York",
    "Europe/London",
    "Africa/Lagos",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "Asia/Jerusalem",
    "America/Santiago",
    "Africa/Casablanca",
    "Asia/Tehran",
    "Europe/Moscow",
)


def observances(zone_name: str):
    calendar = Calendar.from_ical(
        b"BEGIN:VCALENDAR\r\n" + vtimezone(zone_name) + b"END:VCALENDAR\r\n"
    )
    [component] = calendar.walk("VTIMEZONE")
    return component.subcomponents


def test_new_york_is_two_yearly_rules_per_era_like_calendar_servers_write():
    rules = {
        (o.name, o["RRULE"].to_ical().decode())
        for o in observances("America/New_York")
        if "RRULE" in o
    }

    assert ("DAYLIGHT", "FREQ=YEARLY;BYDAY=2SU;BYMONTH=3") in rules
    assert ("STANDARD", "FREQ=YEARLY;BYDAY=1SU;BYMONTH=11") in rules
    # Before 2007: first Sunday of April to last Sunday of October, ended by UNTIL.
    assert ("DAYLIGHT", "FREQ=YEARLY;UNTIL=20060403T070000Z;BYDAY=1SU;BYMONTH=4") in rules
    assert ("STANDARD", "FREQ=YEARLY;UNTIL=20061030T060000Z;BYDAY=-1SU;BYMONTH=10") in rules


@pytest.mark.parametrize("zone_name", TRICKY)
def test_every_rdate_property_holds_one_value(zone_name):
    lines = vtimezone(zone_name).decode().split("\r\n")

    assert not [line for line in lines if line.startswith("RDATE") and "," in line]


def test_lagos_without_dst_is_one_standard_observance():
    [only] = observances("Africa/Lagos")

    assert only.name == "STANDARD"
    assert only["TZOFFSETTO"].td == only["TZOFFSETFROM"].td == timedelta(hours=1)


@pytest.mark.parametrize("zone_name", TRICKY)
def test_a_vtimezone_reader_finds_every_offset_zoneinfo_has(zone_name):
    # dateutil's tzical expands RRULE and RDATE; read under another name so
    # nothing can fall back on the system's tz data.
    text = vtimezone(zone_name).decode().replace(f"TZID:{zone_name}", "TZID:Clearway-test")
    read = dateutil_tz.tzical(io.StringIO(text)).get("Clearway-test")
    zone = ZoneInfo(zone_name)
    probes = []
    for onset, *_ in transitions(zone):
        # Three hours either side: dateutil reads repeated local hours loosely.
        probes += [onset - timedelta(hours=3), onset + timedelta(hours=3)]

    wrong = [
        instant
        for instant in probes
        if instant.astimezone(read).utcoffset() != instant.astimezone(zone).utcoffset()
    ]

    assert wrong == []


def test_each_zone_is_built_once_per_process_however_many_zones_are_asked(monkeypatch):
    built = []
    build = zones._build
    monkeypatch.setattr(zones, "_built", {})
    monkeypatch.setattr(zones, "_build", lambda name, zone: built.append(name) or build(name, zone))
    names = sorted(n for n in zones._known() if n.startswith(("Europe/", "America/")))[:80]

    for name in names + names:
        vtimezone(name)

    assert sorted(built) == names


def test_an_unknown_zone_is_neither_built_nor_kept(monkeypatch):
    monkeypatch.setattr(zones, "_built", {})

    assert vtimezone("Mars/Olympus_Mons") == b""
    assert zones._built == {}


def test_onsets_are_local_times_in_the_offset_before_the_change():
    # New York springs forward at 02:00 EST (07:00 UTC); 03:00 would be an hour late.
    [spring] = [
        o
        for o in observances("America/New_York")
        if o.name == "DAYLIGHT" and "RRULE" in o and "UNTIL" not in o["RRULE"]
    ]

    assert spring["DTSTART"].dt.replace(tzinfo=None).isoformat() == "2007-03-11T02:00:00"
    assert spring["TZOFFSETFROM"].td == timedelta(hours=-5)


@pytest.mark.parametrize("zone_name", TRICKY)
def test_ical_js_reads_every_change_where_zoneinfo_puts_it(zone_name):
    zone = ZoneInfo(zone_name)
    probes = []
    for onset, before, after, *_ in transitions(zone):
        # Clear of the skipped or repeated wall-clock hours around the change.
        margin = abs(after - before) + timedelta(hours=1)
        probes += [onset - margin, onset + margin]
    walls = [instant.astimezone(zone).replace(tzinfo=None) for instant in probes]

    read = icaljs.instants(vtimezone(zone_name), walls)

    wrong = [
        (wall, got)
        for wall, got, instant in zip(walls, read, probes, strict=True)
        if got != instant
    ]
    assert wrong == []

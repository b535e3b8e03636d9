"""The words pages use for states, rules, durations and instants (docs/vocabulary.md).

One place for them, so the job list, the job page, the calendar, the review
inbox and the feeds say "Pending review" and "Refused" alike, and people read
"every Sunday 02:00-06:00 London" and "4 hours" rather than an RRULE and
"4:00:00".
"""

import calendar
import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from scheduling.choices import JobStatus

SEVERITY_WORDS = {"refuse": "Refused", "flag": "Flagged", "clear": "Clear"}
_DAYS = {"MO": "Monday", "TU": "Tuesday", "WE": "Wednesday", "TH": "Thursday", "FR": "Friday"}
_DAYS |= {"SA": "Saturday", "SU": "Sunday"}
_ORDINALS = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", -1: "last"}
_ORDINALS |= {-2: "second to last"}
_MONTHS = list(calendar.month_name)[1:]
_UNITS = {"DAILY": "day", "WEEKLY": "week", "MONTHLY": "month", "YEARLY": "year"}
_UTC_INSTANT = re.compile(
    r"(\d{4}-\d{2}-\d{2} \d{2}:\d{2})(?: and (\d{4}-\d{2}-\d{2} \d{2}:\d{2}))? UTC"
)


def status_word(status: str) -> str:
    """`pending` -> `Pending review`: the label of JobStatus, everywhere."""
    return (
        JobStatus(status).label if status in JobStatus.values else (status or "").replace("_", " ")
    )


def severity_word(severity: str) -> str:
    return SEVERITY_WORDS.get(severity or "", (severity or "none").replace("_", " ").title())


def duration_text(value: timedelta | None) -> str:
    """`timedelta(hours=4, minutes=30)` -> `4 hours 30 minutes`."""
    if value is None:
        return ""
    minutes = int(value.total_seconds()) // 60
    parts = []
    for size, unit in ((1440, "day"), (60, "hour"), (1, "minute")):
        count, minutes = divmod(minutes, size)
        if count:
            parts.append(f"{count} {unit}{'s' if count != 1 else ''}")
    return " ".join(parts) or "0 minutes"


def zone_label(zone_name: str) -> str:
    """`America/New_York` -> `New York`; `UTC` stays."""
    return zone_name.rsplit("/", 1)[-1].replace("_", " ")


def _day(code: str) -> str:
    match = re.fullmatch(r"([+-]?\d*)([A-Z]{2})", code)
    if not match or match.group(2) not in _DAYS:
        raise ValueError(code)
    nth, day = match.groups()
    if not nth:
        return _DAYS[day]
    return f"{_ORDINALS.get(int(nth), f'{int(nth)}th')} {_DAYS[day]}"


def _list(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def rule_text(rrule: str, *, start: time | datetime, duration: timedelta, zone_name: str) -> str:
    """A rule in words: `every Sunday 02:00-06:00 London`; the raw rule when it is unusual."""
    rule = (rrule or "").strip().upper().removeprefix("RRULE:")
    parts = dict(p.split("=", 1) for p in rule.split(";") if "=" in p)
    clock = start.time() if isinstance(start, datetime) else start
    end = (datetime.combine(datetime(2000, 1, 1, tzinfo=UTC), clock) + duration).time()
    hours = f"{clock:%H:%M}\N{EN DASH}{end:%H:%M}"
    if duration >= timedelta(days=1):
        hours = f"from {clock:%H:%M} for {duration_text(duration)}"
    try:
        unit = _UNITS[parts.get("FREQ", "")]
        interval = int(parts.get("INTERVAL", "1"))
        every = "every" if interval == 1 else f"every {interval} {unit}s"
        days = [_day(code) for code in parts["BYDAY"].split(",")] if "BYDAY" in parts else []
        month_days = parts.get("BYMONTHDAY", "")
        months = (
            [_MONTHS[int(m) - 1] for m in parts["BYMONTH"].split(",")] if "BYMONTH" in parts else []
        )
        if unit == "day" and not days:
            what = "every day" if interval == 1 else every.replace(" every", "")
        elif days and unit in ("day", "week"):
            what = f"{every} {_list(days)}" if interval == 1 else f"{every} on {_list(days)}"
        elif days:
            period = f"every {unit}" if interval == 1 else every
            what = f"the {_list(days)} of {period}"
        elif month_days:
            named = "the last day" if month_days == "-1" else f"day {month_days}"
            what = f"{named} of {'every month' if interval == 1 else every}"
        else:
            what = every if interval > 1 else f"every {unit}"
        if months:
            what += f" in {_list(months)}"
    except (KeyError, ValueError, IndexError):
        return f"{rule} at {clock:%H:%M} {zone_label(zone_name)} for {duration_text(duration)}"
    text = f"{what} {hours} {zone_label(zone_name)}"
    if "COUNT" in parts:
        text += f", {parts['COUNT']} times"
    elif "UNTIL" in parts:
        text += f", until {parts['UNTIL'][:4]}-{parts['UNTIL'][4:6]}-{parts['UNTIL'][6:8]}"
    return text


def instant_text(moment: datetime, zone: ZoneInfo) -> str:
    """`Thu 12 Dec 2030 18:59 EST`: an instant in the viewer's zone, the zone named."""
    local = moment.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b %Y %H:%M} {local:%Z}"


def localise_text(text: str, zone: ZoneInfo) -> str:
    """Rewrite the UTC instants in a message (`2030-12-12 23:59 UTC`) in the viewer's zone."""

    def local(match: re.Match[str]) -> str:
        first = datetime.strptime(match.group(1), "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
        if match.group(2) is None:
            return instant_text(first, zone)
        second = datetime.strptime(match.group(2), "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
        return f"{instant_text(first, zone)} and {instant_text(second, zone)}"

    return _UTC_INSTANT.sub(local, text or "")

"""Recurring rules (RFC 5545 RRULE) expanded in their own time zone.

A rule such as "every Sunday 01:30-03:30 America/New_York" means local wall
clock hours. dateutil is given an aware *local* DTSTART, so it steps through
wall-clock dates and times; each occurrence is turned into UTC at once, and its
end is the local start plus the wall-clock duration. Expanding in UTC instead
would shift the window by an hour across every DST change.
"""

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import rrule as dateutil_rrule
from dateutil.rrule import rrule, rrulestr

from scheduling.errors import InvalidInput
from scheduling.rule_parts import check_parts
from scheduling.zones import is_offered

_UNTIL = re.compile(r"UNTIL=([0-9TZ]+)", re.IGNORECASE)
# Sub-daily rules step in fixed wall-clock units, so they can start near the
# range asked for instead of at a DTSTART years back (see _skip_ahead).
_SUB_DAILY_STEPS = {
    "HOURLY": timedelta(hours=1),
    "MINUTELY": timedelta(minutes=1),
    "SECONDLY": timedelta(seconds=1),
}
_SUPPORTED_FREQS = {"SECONDLY", "MINUTELY", "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY"}
# dateutil steps a rule one FREQ period at a time and tests the BY* parts on
# each: FREQ=SECONDLY;BYMONTH=12;BYMONTHDAY=10;BYHOUR=8... walks some 30
# million seconds between two yearly matches, minutes of CPU per request. No
# window Clearway books needs such a rule: the same times repeat DAILY with
# BYHOUR and BYMINUTE, which costs one step per day.
_NO_FILTERS = {"SECONDLY", "MINUTELY"}
# A recurring job must end within this long of its start (COUNT or UNTIL).
# Without a bound a sparse rule (FREQ=HOURLY;BYDAY=MO;BYMONTH=2;BYMONTHDAY=29,
# Monday 29 February) is walked day by day to the year 9999: 20 s per request.
MAX_JOB_SPAN = timedelta(days=3653)


# The work a rule may take, in dateutil's steps (one FREQ period each, some
# 300,000 a second on an idle core). A rule that never matches
# (FREQ=HOURLY;COUNT=1;BYSETPOS=2, BYYEARDAY=366 with BYMONTH=1,
# BYWEEKNO=53 with BYMONTH=6) is searched
# period by period until the year 9999 *before* any COUNT, UNTIL or
# occurrence cap applies, so the work itself is bounded: one walk of a rule
# may take MAX_RULE_STEPS, and a file of rules (an upload, a feed) shares a
# budget of steps (rule_work_budget): counted, not timed, so a busy machine
# refuses the same files as an idle one. A daily rule anchored in 2000
# and expanded to 2031 takes 11,500 steps.
MAX_RULE_STEPS = 30_000
_shared_budget: ContextVar["_Steps | None"] = ContextVar("clearway_rule_budget", default=None)


class RuleTooCostly(InvalidInput):
    """A rule's walk ran out of steps: it matches too rarely, or never."""


class RuleBudgetSpent(RuleTooCostly):
    """The rules of one file together ran out of steps: the whole file is refused."""


class _Steps:
    def __init__(self, steps: int, *, field: str, shared: bool = False) -> None:
        self.left, self.field, self.shared = steps, field, shared

    def spend(self) -> None:
        self.left -= 1
        if self.left < 0:
            error = RuleBudgetSpent if self.shared else RuleTooCostly
            raise error.for_field(
                self.field,
                "These recurring rules take too much work to expand; simplify them."
                if self.shared
                else "The rule takes too much work to expand: it repeats too often since "
                "long ago, or matches rarely or never (check BYSETPOS, BYYEARDAY=366, "
                "BYWEEKNO=53 with BYMONTH).",
            )


class _MeteredIterInfo(dateutil_rrule._iterinfo):
    """dateutil's per-walk state, spending one step per FREQ period it visits.

    dateutil builds one `_iterinfo` per walk of a rule and asks it for the
    period's days once per period, so that is where the work is counted.
    Only rules made by `build_rule` carry a budget; other users of dateutil
    (icalendar, tests) walk unmetered.
    """

    def __init__(self, rule: rrule) -> None:
        super().__init__(rule)
        field = getattr(rule, "_clearway_field", None)
        self.own = _Steps(MAX_RULE_STEPS, field=field) if field else None
        self.shared = _shared_budget.get() if field else None

    def _spend(self) -> None:
        if self.own is not None:
            self.own.spend()
            if self.shared is not None:
                self.shared.spend()

    def ydayset(self, *args):
        self._spend()
        return super().ydayset(*args)

    def mdayset(self, *args):
        self._spend()
        return super().mdayset(*args)

    def wdayset(self, *args):
        self._spend()
        return super().wdayset(*args)

    def ddayset(self, *args):
        self._spend()
        return super().ddayset(*args)


# dateutil looks `_iterinfo` up in its module on each walk (python-dateutil
# 2.9.0, pinned); tests/reliability/test_rule_work.py fails if that changes.
dateutil_rrule._iterinfo = _MeteredIterInfo  # type: ignore[misc, assignment]


@contextmanager
def rule_work_budget(steps: int, *, field: str = "RRULE"):
    """Every rule walked inside shares `steps` (a file of events, a feed)."""
    token = _shared_budget.set(_Steps(steps, field=field, shared=True))
    try:
        yield
    finally:
        _shared_budget.reset(token)


def _metered(rule: rrule, field: str) -> rrule:
    rule._clearway_field = field  # type: ignore[attr-defined]
    return rule


@dataclass(frozen=True, slots=True)
class Occurrence:
    start: datetime
    end: datetime


def zone(name: str, *, field: str = "timezone") -> ZoneInfo:
    """The zone of an input, if it is one the pickers offer (scheduling.zones)."""
    if not isinstance(name, str) or not is_offered(name):
        # Checked before ZoneInfo: a tzdata folder ("America") or an over-long
        # name would otherwise reach the filesystem.
        raise InvalidInput.for_field(
            field,
            f"Unknown time zone {name!r}; use an IANA name such as Europe/London "
            "(legacy aliases such as US/Eastern or Etc/GMT+5 are not accepted).",
        )
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise InvalidInput.for_field(field, f"Unknown time zone {name!r}.") from None


def stored_zone(name: str, *, field: str = "timezone") -> ZoneInfo:
    """Any zone zoneinfo knows: rows saved before the offered list narrowed still expand."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError, OSError):
        return zone(name, field=field)


def _normalise_until(text: str, tz: ZoneInfo, *, field: str) -> str:
    """Rewrite UNTIL into UTC so dateutil accepts it beside an aware DTSTART."""

    def to_utc(match: re.Match[str]) -> str:
        raw = match.group(1).upper()
        try:
            if raw.endswith("Z"):
                instant = datetime.strptime(raw, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
            elif "T" in raw:
                instant = datetime.strptime(raw, "%Y%m%dT%H%M%S").replace(tzinfo=tz)
            else:
                # A date-only UNTIL includes that whole local day.
                day = datetime.strptime(raw, "%Y%m%d").replace(tzinfo=tz).date()
                instant = datetime.combine(day, time(23, 59, 59), tzinfo=tz)
        except ValueError:
            raise InvalidInput.for_field(
                field, f"UNTIL={raw} is not a date (YYYYMMDD) or date-time (YYYYMMDDTHHMMSSZ)."
            ) from None
        return "UNTIL=" + instant.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")

    return _UNTIL.sub(to_utc, text)


def normalise_rrule(text: str) -> str:
    """The rule text without an `RRULE:` prefix, upper-cased and trimmed."""
    text = (text or "").strip()
    if text.upper().startswith("RRULE:"):
        text = text[len("RRULE:") :]
    return text.strip().upper()


def _parts(text: str, *, field: str) -> dict[str, str]:
    parts: dict[str, str] = {}
    for piece in text.split(";"):
        if not piece:
            continue
        key, sep, value = piece.partition("=")
        if not sep or not value:
            raise InvalidInput.for_field(field, f"{piece!r} is not a KEY=VALUE part of an RRULE.")
        parts[key] = value
    return parts


def check_rule_text(rrule_text: str, *, field: str = "rrule") -> None:
    """The checks a rule given now must pass besides parsing (`rule_parts`).

    Only for new input: a rule stored before a check existed still expands,
    so the daily refresh and the gate never fail on a row nobody just sent.
    """
    text = normalise_rrule(rrule_text)
    keys = [piece.partition("=")[0] for piece in text.split(";") if piece]
    if twice := sorted({key for key in keys if keys.count(key) > 1}):
        raise InvalidInput.for_field(field, f"{', '.join(twice)} given twice; give each part once.")
    check_parts(_parts(text, field=field), field=field)


def build_rule(*, rrule_text: str, dtstart: datetime, field: str = "rrule") -> rrule:
    """Parse a rule against an aware local DTSTART, with a clear error on bad input."""
    text = normalise_rrule(rrule_text)
    parts = _parts(text, field=field)
    if parts.get("FREQ") not in _SUPPORTED_FREQS:
        raise InvalidInput.for_field(field, "An RRULE needs FREQ, e.g. FREQ=WEEKLY;BYDAY=SU.")
    if parts["FREQ"] in _NO_FILTERS and (filters := sorted(k for k in parts if k.startswith("BY"))):
        raise InvalidInput.for_field(
            field,
            f"A rule repeating every {parts['FREQ'][:-2].lower()} cannot also have "
            f"{', '.join(filters)}; repeat DAILY or WEEKLY with BYHOUR and BYMINUTE instead.",
        )
    if "COUNT" in parts and "UNTIL" in parts:
        raise InvalidInput.for_field(field, "An RRULE may have COUNT or UNTIL, not both.")
    tz = dtstart.tzinfo
    assert isinstance(tz, ZoneInfo), "DTSTART must carry its IANA zone"
    text = _normalise_until(text, tz, field=field)
    try:
        rule = rrulestr(text, dtstart=dtstart)
    except (ValueError, TypeError, KeyError, OverflowError) as exc:
        raise InvalidInput.for_field(field, f"Not a valid RRULE: {exc}.") from None
    if not isinstance(rule, rrule):
        raise InvalidInput.for_field(field, "Give a single RRULE (no RDATE or EXRULE).")
    return _metered(rule, field)


def _to_utc(local: datetime) -> datetime:
    return local.astimezone(UTC)


def expand(
    *,
    rrule_text: str,
    start: datetime,
    end: datetime,
    zone_name: str,
    exdates: Iterable[datetime] = (),
    after: datetime | None = None,
    before: datetime | None = None,
    cap: int,
    field: str = "rrule",
) -> list[Occurrence]:
    """Occurrences of [start, end) repeated by the rule, in UTC, overlapping [after, before).

    `start`/`end` are the first occurrence (aware, any zone); `exdates` are
    excluded occurrence starts. More than `cap` occurrences in the range is an
    error, so a rule like FREQ=SECONDLY cannot exhaust memory.
    """
    tz = stored_zone(zone_name)
    local_start = start.astimezone(tz)
    wall = end.astimezone(tz).replace(tzinfo=None) - local_start.replace(tzinfo=None)
    if wall <= timedelta(0):
        raise InvalidInput.for_field("end", "The end must be after the start.")
    rule = build_rule(rrule_text=rrule_text, dtstart=local_start, field=field)
    if after is not None:
        rule = _skip_ahead(rule, rrule_text=rrule_text, local_start=local_start, until=after - wall)
    excluded = {_to_utc(moment) for moment in exdates}
    found: list[Occurrence] = []
    for occurrence in _iterate(rule, tz=tz, wall=wall, after=after):
        if before is not None and occurrence.start >= before:
            break
        if occurrence.start in excluded:
            continue
        if after is not None and occurrence.end <= after:
            continue
        found.append(occurrence)
        if len(found) > cap:
            raise InvalidInput.for_field(
                field,
                f"The rule yields more than {cap} occurrences in the planning horizon; "
                "use a COUNT, an UNTIL or a coarser frequency.",
            )
    return found


def _skip_ahead(rule: rrule, *, rrule_text: str, local_start: datetime, until: datetime) -> rrule:
    """The same rule restarted at its last period boundary well before `until`.

    dateutil walks every period from DTSTART, and allowed windows are anchored
    in 2000: a MINUTELY rule would take minutes to reach today. Restarting a
    whole number of INTERVALs later (in wall-clock time, as dateutil steps)
    yields the same occurrences. Rules with COUNT keep their DTSTART, since
    COUNT counts from it.
    """
    parts = _parts(normalise_rrule(rrule_text), field="rrule")
    step = _SUB_DAILY_STEPS.get(parts.get("FREQ", ""))
    if step is None or "COUNT" in parts:
        return rule
    step *= int(parts.get("INTERVAL", "1"))
    tz = local_start.tzinfo
    # Some margin: a DST change moves the wall clock by two hours at most.
    target = (until - timedelta(hours=3)).astimezone(tz).replace(tzinfo=None)
    naive_start = local_start.replace(tzinfo=None)
    periods = (target - naive_start) // step
    if periods <= 0:
        return rule
    restarted = rule.replace(dtstart=(naive_start + periods * step).replace(tzinfo=tz))
    return _metered(restarted, getattr(rule, "_clearway_field", "rrule"))


def _iterate(
    rule: rrule, *, tz: ZoneInfo, wall: timedelta, after: datetime | None
) -> Iterator[Occurrence]:
    starts: Iterable[datetime]
    if after is not None:
        # An occurrence that began up to `wall` before `after` still overlaps it
        # (plus two hours: a DST change can stretch the real duration).
        starts = rule.xafter((after - wall - timedelta(hours=2)).astimezone(tz), inc=True)
    else:
        starts = rule
    for local in starts:
        start = _to_utc(local)
        end = _to_utc((local.replace(tzinfo=None) + wall).replace(tzinfo=tz))
        if end <= start:
            # The local start fell in a spring-forward gap and, read with the
            # offset before the gap (RFC 5545), lands after the local end
            # (02:30-03:15 becomes 03:30-03:15 EDT). Keep the window's length.
            end = start + wall
        yield Occurrence(start=start, end=end)


def validate_rule(
    *,
    rrule_text: str,
    start: datetime,
    end: datetime,
    zone_name: str,
    cap: int,
    bounded: bool,
    before: datetime | None = None,
    exdates: Iterable[datetime] = (),
) -> str:
    """Check a rule by using it; return its normalised text.

    It must parse, start on `start` (so a calendar app that always counts
    DTSTART expands it as Clearway does), yield at least one occurrence and at
    most `cap` before `before`; `bounded` rules (jobs) need COUNT or UNTIL,
    reached within MAX_JOB_SPAN of the start.
    """
    check_rule_text(rrule_text)
    text = normalise_rrule(rrule_text)
    parts = _parts(text, field="rrule")
    if bounded and "COUNT" not in parts and "UNTIL" not in parts:
        raise InvalidInput.for_field(
            "rrule", "A recurring job needs an end: add COUNT=n or UNTIL=YYYYMMDDTHHMMSSZ."
        )
    tz = zone(zone_name)
    span_end = start + MAX_JOB_SPAN
    if bounded:
        # Expanded no further than the span, so the work is bounded whatever
        # the rule; a rule that goes on past it is refused below.
        before = min(before, span_end) if before else span_end
        until = _UNTIL.search(_normalise_until(text, tz, field="rrule"))
        if until and datetime.strptime(until.group(1), "%Y%m%dT%H%M%SZ").replace(
            tzinfo=UTC
        ) > span_end.astimezone(UTC):
            raise _too_long()
    local_start = start.astimezone(tz)
    first = next(iter(build_rule(rrule_text=text, dtstart=local_start)), None)
    if first is not None and first.astimezone(UTC) != start.astimezone(UTC):
        _check_not_second_of_a_repeated_hour(first=first, local_start=local_start)
    if first is None or first.astimezone(UTC) != start.astimezone(UTC):
        raise InvalidInput.for_field(
            "rrule",
            "The start must be the rule's first occurrence "
            "(e.g. a start on a Sunday for FREQ=WEEKLY;BYDAY=SU).",
        )
    occurrences = expand(
        rrule_text=text,
        start=start,
        end=end,
        zone_name=zone_name,
        cap=cap,
        before=before,
        exdates=exdates,
    )
    if not occurrences:
        raise InvalidInput.for_field("rrule", "Every occurrence of the rule is excluded.")
    if bounded and "COUNT" in parts and len(occurrences) < int(parts["COUNT"]):
        raise _too_long()
    return text


def _check_not_second_of_a_repeated_hour(*, first: datetime, local_start: datetime) -> None:
    """A start in the second pass of an hour the clocks repeat cannot begin a rule.

    RFC 5545 reads an ambiguous local DTSTART as the first of the two
    instants, and so does dateutil: every calendar app would put the series an
    hour earlier than asked. Say so, rather than "not the first occurrence".
    """
    if first.replace(tzinfo=None) != local_start.replace(tzinfo=None):
        return
    earlier = first.astimezone(UTC).strftime("%H:%M UTC")
    raise InvalidInput.for_field(
        "rrule",
        f"{local_start:%H:%M} on {local_start:%Y-%m-%d} happens twice in {local_start.tzinfo} "
        f"(the clocks go back), and a repeating series starts at the first of the two "
        f"({earlier}). Start at that one, or after the repeated hour.",
    )


def _too_long() -> InvalidInput:
    years = MAX_JOB_SPAN.days // 365
    return InvalidInput.for_field(
        "rrule",
        f"A recurring job must end within {years} years of its start: lower COUNT or UNTIL.",
    )


def local_date_start(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=tz)

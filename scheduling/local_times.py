"""Wall-clock times typed in a zone: the ones a DST change skips or repeats.

A spring-forward gap (01:30 on 28 March 2027 in London) names no instant, and
an autumn time (01:30 on 31 October 2027) names two. zoneinfo quietly picks
one, so a form would store a window that is not what was typed (or one whose
start and end are the same instant). The forms ask instead: a gap time is an
error that says where the gap is; a repeated time needs a choice of offset.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Transition:
    instant: datetime  # UTC
    before: str  # the wall time of the change read before it, with the zone's abbreviation
    after: str  # the wall time just after it, with the zone's abbreviation


@dataclass(frozen=True)
class Problem:
    kind: str  # "gap" or "repeated"
    message: str
    choices: tuple[tuple[str, str], ...] = ()  # (fold, label) for a repeated time


def _offset(offset: timedelta) -> str:
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def _transition_near(naive: datetime, zone: ZoneInfo) -> Transition:
    """The change within a day of a wall time, found by bisection on UTC."""
    lo = naive.replace(tzinfo=UTC) - timedelta(days=1)
    hi = naive.replace(tzinfo=UTC) + timedelta(days=1)
    start_offset = lo.astimezone(zone).utcoffset()
    while hi - lo > timedelta(seconds=1):
        middle = lo + (hi - lo) / 2
        if middle.astimezone(zone).utcoffset() == start_offset:
            lo = middle
        else:
            hi = middle
    instant = hi.replace(microsecond=0)
    earlier = (instant - timedelta(seconds=1)).astimezone(zone)
    later = instant.astimezone(zone)
    wall_before = (instant + earlier.utcoffset()).replace(tzinfo=None)
    return Transition(
        instant=instant,
        before=f"{wall_before:%H:%M} {earlier:%Z}",
        after=f"{later:%H:%M} {later:%Z}",
    )


def _day(naive: datetime) -> str:
    return f"{naive:%H:%M} on {naive:%a} {naive.day} {naive:%b %Y}"


def problem(naive: datetime, zone_name: str) -> Problem | None:
    """Why a wall time does not name exactly one instant in the zone, or None."""
    zone = ZoneInfo(zone_name)
    first, second = naive.replace(tzinfo=zone, fold=0), naive.replace(tzinfo=zone, fold=1)
    if first.utcoffset() == second.utcoffset():
        return None
    change = _transition_near(naive, zone)
    if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
        wall_before = (change.instant + first.utcoffset()).replace(tzinfo=None)
        last = wall_before - timedelta(minutes=1)
        return Problem(
            "gap",
            f"{_day(naive)} does not exist in {zone_name}: at {change.before} the clocks go "
            f"forward to {change.after}. Choose {last:%H:%M} or earlier, "
            f"or {change.after[:5]} or later.",
        )
    labels = tuple(
        (str(fold), f"{naive:%H:%M} {moment:%Z} ({_offset(moment.utcoffset())}), the {order} time")
        for fold, moment, order in ((0, first, "first"), (1, second, "second"))
    )
    return Problem(
        "repeated",
        f"{_day(naive)} happens twice in {zone_name}: at {change.before} the clocks "
        f"go back to {change.after}. Choose which {naive:%H:%M} you mean: "
        f"{labels[0][1]} or {labels[1][1]}.",
        labels,
    )


def text_problem(naive: datetime, zone_name: str) -> str | None:
    """The problem() message for callers that send ISO 8601 (the API, files), or None.

    They cannot tick a choice, so a repeated time is answered with the two
    offsets that name each instant.
    """
    found = problem(naive, zone_name)
    if found is None:
        return None
    if found.kind == "gap":
        return found.message
    zone = ZoneInfo(zone_name)
    first, second = (naive.replace(tzinfo=zone, fold=fold).isoformat() for fold in (0, 1))
    return f"{found.message} Send it with its offset: {first} or {second}."

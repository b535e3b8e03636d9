"""The one check of an instant someone typed, for the API, the pages, uploads and feeds.

An instant must be aware, fall between 1970 and 2999 (years 1 and 9999 are
typing mistakes, and the arithmetic around them overflowed into 500s), and,
when it was typed as a wall-clock time in a named zone, exist there: a time
in a spring-forward gap (02:30 on the night Europe/London skips to 03:00)
names no instant, and read with either offset it put ends before starts.
"""

from collections.abc import Mapping
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from scheduling import local_times
from scheduling.errors import InvalidInput

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(3000, 1, 1, tzinfo=UTC)
RANGE_MESSAGE = "Give a time between 1970 and 2999."


def out_of_range(value: datetime) -> bool:
    """Whether an aware `value` falls outside 1970-2999, checked without overflowing."""
    # The year first: converting year 1 or 9999 across an offset overflows.
    if not EARLIEST.year <= value.year < LATEST.year:
        return True
    try:
        return not EARLIEST <= value.astimezone(UTC) < LATEST
    except (OverflowError, ValueError):
        return True


def instant_problem(value: datetime | None) -> str | None:
    """Why `value` is not a usable instant, or None when it is."""
    if value is None:
        return None
    if value.tzinfo is None:
        return "Times need a UTC offset or a time zone."
    if out_of_range(value):
        return RANGE_MESSAGE
    as_utc = value.astimezone(UTC)
    if isinstance(value.tzinfo, ZoneInfo):
        wall = value.replace(tzinfo=None)
        if as_utc.astimezone(value.tzinfo).replace(tzinfo=None) != wall:
            # The forms' words (which change, and the times either side of it).
            return local_times.problem(wall, value.tzinfo.key).message
    return None


def instant_errors(values: Mapping[str, datetime | None]) -> dict[str, list[str]]:
    """Field name -> its problem, for each value that has one."""
    return {
        field: [problem]
        for field, value in values.items()
        if (problem := instant_problem(value)) is not None
    }


def check_instants(message: str, **values: datetime | None) -> None:
    """Raise InvalidInput naming every field whose instant is not usable."""
    if errors := instant_errors(values):
        raise InvalidInput(message, fields=errors)

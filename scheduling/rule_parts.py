"""Checks of an RRULE's parts that dateutil leaves to fail later, or never.

dateutil parses numbers with `int()`, which refuses a digit such as `²` that
`str.isdigit()` accepts, and it accepts values no calendar has (BYMONTH=13,
BYDAY=99MO): some raise IndexError while the rule is walked, others make a rule
that never occurs. Each is an input error here, named after the part.
"""

import re

from scheduling.errors import InvalidInput

# Signed whole numbers in ASCII digits only, short enough for int() (a number
# of thousands of digits makes it raise).
_NUMBER = re.compile(r"[+-]?[0-9]{1,10}", re.ASCII)
_ORDINAL = re.compile(r"([+-]?[0-9]{1,10})?([A-Z]{2})", re.ASCII)
# The longest each month can be (February in a leap year).
_MONTH_LENGTHS = {
    1: 31,
    2: 29,
    3: 31,
    4: 30,
    5: 31,
    6: 30,
    7: 31,
    8: 31,
    9: 30,
    10: 31,
    11: 30,
    12: 31,
}
# Each numeric BY part's values (RFC 5545 3.3.10): (lowest, highest, may count from the end).
_BOUNDS = {
    "BYMONTH": (1, 12, False),
    "BYWEEKNO": (1, 53, True),
    "BYYEARDAY": (1, 366, True),
    "BYMONTHDAY": (1, 31, True),
    "BYHOUR": (0, 23, False),
    "BYMINUTE": (0, 59, False),
    "BYSECOND": (0, 59, False),
}
# RFC 5545's integers are 32-bit: icalendar will not write a larger COUNT.
_LARGEST = 2**31 - 1


def check_parts(parts: dict[str, str], *, field: str) -> None:
    """Refuse numbers dateutil cannot read and values no month or year has."""
    for key in ("COUNT", "INTERVAL"):
        value = parts.get(key)
        if value is not None and not (
            value.isascii() and value.isdigit() and len(value) <= 10 and 1 <= int(value) <= _LARGEST
        ):
            raise InvalidInput.for_field(
                field, f"{key} must be a whole number from 1 to {_LARGEST:,}."
            )
    for key, (low, high, signed) in _BOUNDS.items():
        for value in _listed(parts, key, field=field):
            number = int(value)
            if not (low <= abs(number) <= high) or (number < 0 and not signed):
                span = f"{low} to {high}" + (f", or -{high} to -1" if signed else "")
                raise InvalidInput.for_field(field, f"{key}={value} is outside {span}.")
    _check_ordinals(parts, field=field)
    _check_month_days(parts, field=field)


def _listed(parts: dict[str, str], key: str, *, field: str) -> list[str]:
    values = [v for v in parts.get(key, "").split(",") if v] if key in parts else []
    for value in values:
        if not _NUMBER.fullmatch(value):
            raise InvalidInput.for_field(field, f"{key}={value} is not a whole number.")
    return values


def _check_ordinals(parts: dict[str, str], *, field: str) -> None:
    """BYDAY=2MO means the second Monday of the month (at most 5) or of the year (53)."""
    bound = 5 if parts.get("FREQ") == "MONTHLY" or "BYMONTH" in parts else 53
    for value in (v for v in parts.get("BYDAY", "").split(",") if v):
        match = _ORDINAL.fullmatch(value)
        if match is None:
            raise InvalidInput.for_field(
                field, f"BYDAY={value} is not a weekday such as MO or 2MO."
            )
        if match.group(1) is None:
            continue
        if not 1 <= abs(int(match.group(1))) <= bound:
            raise InvalidInput.for_field(
                field, f"BYDAY={value}: the ordinal must be 1 to {bound}, or -{bound} to -1."
            )


def _check_month_days(parts: dict[str, str], *, field: str) -> None:
    """Reject BYMONTHDAY days that none of the BYMONTH months has (e.g. February 30).

    dateutil would look for such a day until the year 9999, which takes
    seconds for a DAILY rule: long enough to tie up a request.
    """
    if "BYMONTHDAY" not in parts:
        return
    days = [int(day) for day in parts["BYMONTHDAY"].split(",") if day]
    months = [int(month) for month in parts.get("BYMONTH", "").split(",") if month]
    longest = max((_MONTH_LENGTHS.get(month, 31) for month in months), default=31)
    if all(abs(day) > longest for day in days):
        raise InvalidInput.for_field(
            field, "The rule can never occur: no month in BYMONTH has that BYMONTHDAY."
        )

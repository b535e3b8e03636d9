"""The CSV upload format (documented in README, "Deadline feeds").

Columns: title, course, cohort, cohort_size, due, timezone, systems; a
header row names them, in any order. Rows are numbered as a spreadsheet
shows them: the header is row 1. `due` is ISO 8601; without an offset it is
read in the row's `timezone` (else the upload's, else UTC); a date alone is
due at the end of that day there. `systems` are slugs separated by spaces or
semicolons.
"""

import csv
import io
from collections.abc import Iterator
from datetime import datetime, time, timedelta

from django.utils.dateparse import parse_date, parse_datetime

from deadlines.entries import (
    COHORT_MAX,
    COURSE_MAX,
    TITLE_MAX,
    Entry,
    Parsed,
    Problem,
    clean_text,
    split_systems,
)
from deadlines.limits import COHORT_SIZE_MAX, cohort_size_from_text
from scheduling import local_times
from scheduling.errors import InvalidInput
from scheduling.instants import RANGE_MESSAGE, out_of_range
from scheduling.recurrence import zone
from scheduling.text import is_blank

COLUMNS = ("title", "course", "cohort", "cohort_size", "due", "timezone", "systems")
REQUIRED = ("title", "due")
_SEPARATORS = {";": "semicolons", "\t": "tabs", "|": "vertical bars"}
_UNCLOSED_QUOTE = (
    'A quote (") opens a value in this row and never closes, so the rows after it were '
    "read into that value; close the quote or remove it."
)


_UTF16 = (
    'The file is UTF-16 text (Excel\'s "Unicode text"); save it as "CSV UTF-8 (comma '
    'delimited)" and upload that.'
)


def _is_utf16(data: bytes) -> bool:
    """A UTF-16 byte order mark, or the NUL byte beside each letter of UTF-16 without one."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    head = data[:4096]
    return head.count(0) * 4 >= len(head)


class _RowProblems(Exception):
    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__(problems)
        self.problems = problems


def parse_csv(data: bytes, *, default_zone: str = "UTC", max_rows: int) -> Parsed:
    parsed = Parsed()
    if _is_utf16(data):
        parsed.problems.append(Problem("file", "file", _UTF16))
        return parsed
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        parsed.problems.append(Problem("file", "file", "The file is not UTF-8 text."))
        return parsed
    # Rows numbered as a spreadsheet shows them: every record counts, blank
    # ones too (csv.DictReader skipped them, so errors named the wrong row),
    # and a row of empty cells (",,", which spreadsheets save after the data)
    # is skipped like a blank line instead of refusing the upload.
    records = _Records(text)
    rows = iter(records)
    header: list[str] = []
    try:
        for _, values in rows:
            if _filled(values):
                header = [name.strip().lower() for name in values]
                break
        if not _check_header(header, parsed, where=f"row {max(records.number, 1)}"):
            return parsed
        _read_rows(rows, header, parsed, default_zone=default_zone, max_rows=max_rows)
    except _UnclosedQuote:
        parsed.problems.append(Problem(f"row {records.number}", "file", _UNCLOSED_QUOTE))
    except csv.Error as exc:
        # An open quote also meets the csv module's limit on one value's length first.
        message = _UNCLOSED_QUOTE if _opens_quote(records.lines) else f"{exc}."
        parsed.problems.append(Problem(f"row {records.number + 1}", "file", message))
    return parsed


class _UnclosedQuote(Exception):
    """A quoted value runs to the end of the file: the rows after it were read into it."""


class _Records:
    """The file's records numbered from 1; `number` is the last one read, so a
    csv.Error is on the next."""

    def __init__(self, text: str) -> None:
        self.lines: list[str] = []  # the physical lines of the record being read
        self.ended = False
        self.reader = csv.reader(self._lines(text))
        self.number = 0

    def _lines(self, text: str) -> Iterator[str]:
        for line in io.StringIO(text, newline=""):
            self.lines.append(line)
            yield line
        self.ended = True

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        for values in self.reader:
            self.number += 1
            # The csv module ends a quoted value that never closes at the end of
            # the file without a word, so every later row became part of one
            # value and the error then named a column the row seemed to lack.
            if self.ended and _opens_quote(self.lines):
                raise _UnclosedQuote
            self.lines.clear()
            yield self.number, values


def _opens_quote(lines: list[str]) -> bool:
    """Whether the record in `lines` leaves a quoted value open (csv's rules:
    a quote opens a value only at its start, and two quotes inside are one)."""
    text = "".join(lines)
    quoted, at_start, index = False, True, 0
    while index < len(text):
        char = text[index]
        if quoted and char == '"':
            if text[index + 1 : index + 2] == '"':
                index += 1
            else:
                quoted = False
        elif not quoted and char == '"' and at_start:
            quoted = True
        at_start = not quoted and char in ",\r\n"
        index += 1
    return quoted


def _filled(values: list[str]) -> bool:
    return any(value.strip() for value in values)


def _read_rows(
    records: Iterator[tuple[int, list[str]]],
    header: list[str],
    parsed: Parsed,
    *,
    default_zone: str,
    max_rows: int,
) -> None:
    count = 0
    for number, values in records:
        if not _filled(values):
            continue
        count += 1
        if count > max_rows:
            parsed.problems.append(
                Problem(f"row {number}", "file", f"An upload has at most {max_rows:,} rows.")
            )
            return
        row: dict = dict(zip(header, values, strict=False))
        if len(values) > len(header):
            row[None] = values[len(header) :]
        try:
            parsed.entries.append(_entry(row, where=f"row {number}", default_zone=default_zone))
        except _RowProblems as bad:
            parsed.problems.extend(Problem(f"row {number}", f, m) for f, m in bad.problems)


def _check_header(header: list[str], parsed: Parsed, *, where: str = "row 1") -> bool:
    # One "column" holding every name: another separator, as some spreadsheets
    # save by default. Say so, rather than "unknown column" and "missing title".
    mark = max(_SEPARATORS, key=header[0].count) if len(header) == 1 else ""
    if mark and mark in header[0]:
        parsed.problems.append(
            Problem(
                where,
                "file",
                f"The columns are separated by {_SEPARATORS[mark]}; separate them with "
                'commas (save as "CSV UTF-8 (comma delimited)").',
            )
        )
        return False
    unknown = [name for name in header if name not in COLUMNS]
    missing = [name for name in REQUIRED if name not in header]
    for name in unknown:
        parsed.problems.append(
            Problem(where, name or "(blank)", f"Unknown column; use {', '.join(COLUMNS)}.")
        )
    for name in missing:
        parsed.problems.append(Problem(where, name, "This column is required."))
    # A reader keyed by name keeps only the last of two columns with one name:
    # the first one's values would be dropped without a word.
    twice = sorted({name for name in header if name and header.count(name) > 1})
    for name in twice:
        parsed.problems.append(Problem(where, name, "This column is given twice; keep one."))
    return not unknown and not missing and not twice


def _text(row: dict, key: str, limit: int, problems: list[tuple[str, str]]) -> str:
    value = clean_text(row.get(key) or "")
    if len(value) > limit:
        problems.append((key, f"At most {limit} characters."))
    return value[:limit]


def _entry(row: dict, *, where: str, default_zone: str) -> Entry:
    problems: list[tuple[str, str]] = []
    if row.get(None):
        problems.append(("file", "The row has more values than the header has columns."))
    title = _text(row, "title", TITLE_MAX, problems)
    if is_blank(title):
        problems.append(("title", "Give the deadline a title."))
    size_text = clean_text(row.get("cohort_size") or "").replace(",", "").replace("_", "")
    size = cohort_size_from_text(size_text) if size_text else None
    if size_text and size is None:
        shown = size_text if len(size_text) <= 20 else size_text[:20] + "…"
        problems.append(
            ("cohort_size", f"{shown!r} is not a whole number from 1 to {COHORT_SIZE_MAX:,}.")
        )
    due = _due(row, default_zone=default_zone, problems=problems)
    course = _text(row, "course", COURSE_MAX, problems)
    cohort = _text(row, "cohort", COHORT_MAX, problems)
    if problems or due is None:
        raise _RowProblems(problems)
    return Entry(
        where=where,
        title=title,
        due=due,
        course=course,
        cohort=cohort or None,
        cohort_size=size,
        systems=split_systems(row.get("systems") or "") or None,
    )


def _due(row: dict, *, default_zone: str, problems: list[tuple[str, str]]) -> datetime | None:
    zone_name = clean_text(row.get("timezone") or "") or default_zone
    try:
        tz = zone(zone_name)
    except InvalidInput as exc:
        problems.append(("timezone", exc.message))
        return None
    text = clean_text(row.get("due") or "")
    if not text:
        problems.append(("due", "Give the due date and time, e.g. 2030-12-12T23:59."))
        return None
    try:
        day = parse_date(text)
        moment = None if day else parse_datetime(text)
    except ValueError:  # well formed but impossible, such as 2030-02-30
        day = moment = None
    if day is not None:
        if out_of_range(datetime.combine(day, time.min, tzinfo=tz)):
            # Before the day after is worked out: the day after 9999-12-31 overflows.
            problems.append(("due", RANGE_MESSAGE))
            return None
        # A date alone is due when that day ends in the row's zone.
        return datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)
    if moment is not None and moment.tzinfo is None:
        # The same check as the forms and the API: a skipped or repeated wall time names no instant.
        message = local_times.text_problem(moment, zone_name)
        if message is not None:
            problems.append(("due", message))
            return None
        return moment.replace(tzinfo=tz)
    if moment is not None:
        return moment
    problems.append(("due", f"{text!r} is not an ISO 8601 date or date-time (2030-12-12T23:59)."))
    return None

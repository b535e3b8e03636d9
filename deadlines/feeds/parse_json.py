"""The JSON feed format (documented in README, "Deadline feeds").

An array of objects: `uid`, `title`, `due` (ISO 8601 with an offset), and
optionally `course`, `cohort`, `cohort_size` and `systems` (a list of slugs,
or one string of slugs separated by spaces, commas or semicolons). An item
that cannot be read is skipped and reported; the rest still count.
"""

import json
from typing import Any

from django.utils.dateparse import parse_datetime

from deadlines.entries import (
    COHORT_MAX,
    COURSE_MAX,
    TITLE_MAX,
    UID_MAX,
    Entry,
    Parsed,
    Problem,
    clean_text,
    split_systems,
)
from deadlines.feeds.errors import FeedError
from deadlines.limits import COHORT_SIZE_MAX


class _Skip(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


def parse_json(data: bytes, *, max_events: int) -> Parsed:
    try:
        items = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise FeedError("The JSON feed is not UTF-8 text.") from None
    except RecursionError:
        raise FeedError("The JSON feed is nested too deeply.") from None
    except ValueError as exc:
        raise FeedError(f"This is not JSON (or it is cut off): {exc}.") from None
    if not isinstance(items, list):
        raise FeedError("A JSON feed is an array of deadline objects (see the README).")
    if len(items) > max_events:
        raise FeedError(f"The feed has {len(items):,} deadlines; the limit is {max_events:,}.")
    parsed = Parsed()
    seen: set[str] = set()
    for number, item in enumerate(items, start=1):
        uid = item.get("uid") if isinstance(item, dict) else None
        uid = clean_text(uid) if isinstance(uid, str) else ""
        where = f"item {number}" + (f" (uid {uid})" if uid else "")
        try:
            if uid in seen:
                raise _Skip("uid", "Another item has the same uid; only the first one is used.")
            parsed.entries.append(_entry(item, uid=uid, where=where))
        except _Skip as skip:
            parsed.problems.append(
                Problem(where, skip.field, skip.message, "" if uid in seen else uid)
            )
        if uid:
            seen.add(uid)
    return parsed


def _string(item: dict[str, Any], key: str, *, limit: int, required: bool = False) -> str:
    value = item.get(key)
    if value is None or value == "":
        if required:
            raise _Skip(key, f"Give the {key}.")
        return ""
    if not isinstance(value, str):
        raise _Skip(key, f"The {key} must be a string.")
    value = clean_text(value)
    if len(value) > limit:
        raise _Skip(key, f"The {key} has at most {limit} characters.")
    return value


def _entry(item: Any, *, uid: str, where: str) -> Entry:
    if not isinstance(item, dict):
        raise _Skip("item", "Each item is an object with uid, title and due.")
    if not uid:
        raise _Skip("uid", "Give the uid (a stable identifier of the deadline in the LMS).")
    if len(uid) > UID_MAX:
        raise _Skip("uid", f"The uid has at most {UID_MAX} characters.")
    title = _string(item, "title", limit=TITLE_MAX, required=True)
    due_text = item.get("due")
    try:
        due = parse_datetime(due_text) if isinstance(due_text, str) else None
    except ValueError:  # well formed but not a date, such as month 13
        due = None
    if due is None or due.tzinfo is None:
        raise _Skip("due", "Give due as ISO 8601 with an offset, e.g. 2030-12-12T23:59:00+00:00.")
    size = item.get("cohort_size")
    if size is not None and (
        isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= COHORT_SIZE_MAX
    ):
        raise _Skip(
            "cohort_size", f"The cohort_size is a whole number from 1 to {COHORT_SIZE_MAX:,}."
        )
    systems = item.get("systems")
    if isinstance(systems, str):
        systems = split_systems(systems)
    elif isinstance(systems, list) and all(isinstance(slug, str) for slug in systems):
        systems = tuple(slug for slug in map(clean_text, systems) if slug)
    elif systems is not None:
        raise _Skip("systems", "The systems are a list of system slugs.")
    return Entry(
        where=where,
        title=title,
        due=due,
        uid=uid,
        course=_string(item, "course", limit=COURSE_MAX),
        cohort=_string(item, "cohort", limit=COHORT_MAX) or None,
        cohort_size=size,
        systems=systems or None,
    )

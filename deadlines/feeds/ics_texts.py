"""The texts of an iCalendar event as a deadline keeps them: title, course, overrides.

Split from parse_ics, which reads the event's times and rules.
"""

import re
from typing import Any

from deadlines.entries import COHORT_MAX, COURSE_MAX, TITLE_MAX, Problem, clean_text, split_systems
from deadlines.limits import COHORT_SIZE_MAX, cohort_size_from_text

_COURSE_IN_TITLE = re.compile(r"\[([^\[\]]+)\]\s*$")  # Canvas: "Homework 1 [CS 101]"


class EventSkipped(Exception):
    """Why one event is not read; the others still count."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


def text_of(component: Any, name: str) -> str:
    value = component.get(name)
    if isinstance(value, list):
        value = value[0] if value else None
    return "" if value is None else clean_text(str(value))


def given_twice(name: str) -> EventSkipped:
    return EventSkipped(name, f"The event has {name} more than once; give it once.")


def single_text_of(event: Any, name: str) -> str:
    """The text of a property an event gives at most once; given twice, which one
    is meant is unknown (the first was used without a word), so the event is skipped."""
    if isinstance(event.get(name), list):
        raise given_twice(name)
    return text_of(event, name)


def course_of(event: Any, title: str) -> str:
    """Moodle puts the course short name in CATEGORIES; Canvas ends the title with it."""
    categories = event.get("CATEGORIES")
    for prop in categories if isinstance(categories, list) else [categories]:
        for category in getattr(prop, "cats", []):
            if clean_text(str(category)):
                return clean_text(str(category))
    match = _COURSE_IN_TITLE.search(title)
    return match.group(1).strip() if match else ""


def overlong(event: Any, *, uid: str, where: str) -> list[Problem]:
    """Texts longer than a deadline keeps: cut to fit, and named, so a feed
    warns (its deadline still counts) and an upload is refused."""
    title = text_of(event, "SUMMARY")
    problems = []
    if len(title) > TITLE_MAX:
        problems.append(
            Problem(
                where,
                "SUMMARY",
                f"The title has {len(title):,} characters; a deadline keeps at most {TITLE_MAX}.",
                uid,
            )
        )
    if len(course := course_of(event, title)) > COURSE_MAX:
        problems.append(
            Problem(
                where,
                "CATEGORIES" if "CATEGORIES" in event else "SUMMARY",
                f"The course has {len(course):,} characters; a deadline keeps at most "
                f"{COURSE_MAX}.",
                uid,
            )
        )
    return problems


def overrides(event: Any) -> dict[str, Any]:
    """X-CLEARWAY-COHORT, -COHORT-SIZE and -SYSTEMS, which beat the feed's defaults."""
    cohort = single_text_of(event, "X-CLEARWAY-COHORT").strip()
    if len(cohort) > COHORT_MAX:
        raise EventSkipped(
            "X-CLEARWAY-COHORT", f"A cohort name has at most {COHORT_MAX} characters."
        )
    size_text = single_text_of(event, "X-CLEARWAY-COHORT-SIZE").strip()
    size = cohort_size_from_text(size_text) if size_text else None
    if size_text and size is None:
        shown = size_text if len(size_text) <= 20 else size_text[:20] + "…"
        raise EventSkipped(
            "X-CLEARWAY-COHORT-SIZE",
            f"{shown!r} is not a cohort size (a whole number from 1 to {COHORT_SIZE_MAX:,}).",
        )
    return {
        "cohort": cohort or None,
        "cohort_size": size,
        "systems": split_systems(single_text_of(event, "X-CLEARWAY-SYSTEMS")) or None,
    }

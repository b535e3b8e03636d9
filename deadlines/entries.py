"""Deadlines read from a file or a feed, before they are published.

Parsers (CSV, iCalendar, JSON) turn text into `Entry` values and `Problem`s
without touching the database; `resolve` then fills in the defaults (the
upload's or the feed's cohort, size and systems) and checks each entry with
the same rule the services use, so a bulk upload can report every bad row
before it writes anything.
"""

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings

from deadlines.models import Cohort
from deadlines.services import check_deadline, cohort_save
from scheduling.errors import InvalidInput
from scheduling.models import Team
from scheduling.selectors import existing_systems

TITLE_MAX, COURSE_MAX, COHORT_MAX, UID_MAX = 300, 200, 200, 500
_SYSTEM_SEPARATORS = re.compile(r"[\s,;]+")


@dataclass(frozen=True, slots=True)
class Entry:
    """One deadline as a file or feed describes it; `None` means "use the default"."""

    where: str  # how errors name it: "row 4", "event 2 (UID abc)"
    title: str
    due: datetime  # aware
    uid: str = ""
    course: str = ""
    cohort: str | None = None
    cohort_size: int | None = None
    systems: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class Problem:
    """Why an entry (or the file) could not be read. `uid` names the feed event it hides."""

    where: str
    field: str
    message: str
    uid: str = ""

    def __str__(self) -> str:
        return f"{self.where}: {self.field}: {self.message}"

    def as_dict(self) -> dict[str, str]:
        return {"where": self.where, "field": self.field, "message": self.message}


@dataclass
class Parsed:
    entries: list[Entry] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Defaults:
    """What an entry gets when it does not say: from the upload form or the feed."""

    team: Team
    cohort: str = ""
    cohort_size: int | None = None
    systems: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Spec:
    """An entry with its defaults applied and checked: ready for deadline_create/update."""

    uid: str
    title: str
    course: str
    cohort_name: str
    cohort_size: int
    due: datetime
    systems: tuple[str, ...]


def clean_text(text: str) -> str:
    """One line of printable text: runs of white space become one space.

    Control characters and lone surrogates go too: PostgreSQL refuses NUL
    in text, and neither belongs in a title shown in a calendar.
    """
    kept = "".join(
        char if unicodedata.category(char) not in ("Cc", "Cs") else " " for char in text or ""
    )
    return " ".join(kept.split())


def split_systems(text: str) -> tuple[str, ...]:
    """System slugs separated by spaces, commas or semicolons."""
    return tuple(slug for slug in _SYSTEM_SEPARATORS.split(clean_text(text)) if slug)


class Cohorts:
    """Cohort lookups for one batch; cohorts it names but that do not exist are created once."""

    def __init__(self, *, team: Team) -> None:
        self.team = team
        self._known: dict[str, Cohort | None] = {}
        self._new_sizes: dict[str, int] = {}

    def get(self, name: str) -> Cohort | None:
        if name not in self._known:
            self._known[name] = Cohort.objects.filter(name=name).first()
        return self._known[name]

    def size_of(self, name: str) -> int | None:
        cohort = self.get(name)
        return cohort.size if cohort else self._new_sizes.get(name)

    def plan(self, name: str, size: int) -> None:
        if self.get(name) is None:
            self._new_sizes.setdefault(name, size)

    def ensure(self, name: str) -> Cohort | None:
        """The cohort called `name`, created now (inside the caller's transaction) if new."""
        if not name:
            return None
        cohort = self.get(name)
        if cohort is None:
            cohort = cohort_save(name=name, size=self._new_sizes[name], team=self.team)
            self._known[name] = cohort
        return cohort


def _systems_of(entry: Entry, defaults: Defaults) -> tuple[str, ...]:
    return entry.systems or defaults.systems or tuple(settings.CLEARWAY_DEFAULT_DEADLINE_SYSTEMS)


def resolve(
    entry: Entry,
    *,
    defaults: Defaults,
    cohorts: Cohorts,
    known: frozenset[str] | None = None,
) -> Spec | list[Problem]:
    """Apply the defaults to `entry` and check it; the problems name its fields.

    `known`: the existing system slugs among those a batch names (read once).
    """
    name = entry.cohort if entry.cohort else defaults.cohort
    size = entry.cohort_size or (cohorts.size_of(name) if name else None) or defaults.cohort_size
    if size is None:
        message = (
            f"There is no cohort {name!r}; give its cohort_size."
            if name
            else "Give a cohort or a cohort size."
        )
        return [Problem(entry.where, "cohort_size", message, entry.uid)]
    systems = _systems_of(entry, defaults)
    try:
        check_deadline(
            title=entry.title,
            cohort_size=size,
            due=entry.due,
            systems=systems,
            course=entry.course,
            cohort_name=name,
            known=known,
        )
    except InvalidInput as exc:
        # Never an empty list: an entry refused without a word would be dropped.
        return [
            Problem(entry.where, name_, message, entry.uid)
            for name_, messages in exc.fields.items()
            for message in messages
        ] or [Problem(entry.where, "entry", exc.message, entry.uid)]
    if name:
        cohorts.plan(name, size)
    return Spec(
        uid=entry.uid,
        title=entry.title.strip(),
        course=entry.course,
        cohort_name=name,
        cohort_size=size,
        due=entry.due,
        systems=tuple(sorted(set(systems))),
    )


def resolve_all(
    entries: Iterable[Entry], *, defaults: Defaults, cohorts: Cohorts
) -> tuple[list[Spec], list[Problem]]:
    entries = list(entries)
    # One read of the systems for the whole batch, not one per entry.
    known = existing_systems(systems={s for e in entries for s in _systems_of(e, defaults)})
    specs: list[Spec] = []
    problems: list[Problem] = []
    for entry in entries:
        result = resolve(entry, defaults=defaults, cohorts=cohorts, known=known)
        if isinstance(result, Spec):
            specs.append(result)
        else:
            problems.extend(result)
    return specs, problems

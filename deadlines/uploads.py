"""Bulk upload of deadlines from a CSV or an .ics file: all of them, or none.

Every row (or event) is read and checked before anything is written, so the
answer lists each problem with its row and field; only a clean file is
published, in one transaction, through deadline_create.
"""

from collections.abc import Iterable
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from deadlines.entries import Cohorts, Defaults, Parsed, Problem, resolve_all
from deadlines.feeds.errors import FeedError
from deadlines.feeds.parse_ics import feed_window, parse_ics
from deadlines.models import Deadline
from deadlines.parse_csv import parse_csv
from deadlines.services import check_can_publish, deadline_create
from scheduling.errors import InvalidInput
from scheduling.models import Team
from scheduling.timeline.services import timeline_deferred

MAX_UPLOAD_BYTES = 2_000_000
MAX_ROWS = 5000


def _is_ics(filename: str, data: bytes) -> bool:
    name = filename.lower()
    if name.endswith((".ics", ".ical", ".ifb")):
        return True
    if name.endswith(".csv"):
        return False
    return data.lstrip(b"\xef\xbb\xbf \t\r\n")[:15].upper().startswith(b"BEGIN:VCALENDAR")


def _parse(filename: str, data: bytes, *, default_zone: str, now: datetime) -> Parsed:
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidInput.for_field("file", f"Upload at most {MAX_UPLOAD_BYTES:,} bytes.")
    if not data.strip():
        raise InvalidInput.for_field("file", "The file is empty.")
    if not _is_ics(filename, data):
        return parse_csv(data, default_zone=default_zone, max_rows=MAX_ROWS)
    window = feed_window(now=now)
    try:
        return parse_ics(data, window=window, default_zone=default_zone)
    except FeedError as exc:
        raise InvalidInput.for_field("file", str(exc)) from None


def _refuse(problems: list[Problem]) -> InvalidInput:
    fields: dict[str, list[str]] = {}
    for problem in problems:
        fields.setdefault(f"{problem.where}.{problem.field}", []).append(problem.message)
    count = len(problems)
    return InvalidInput(
        f"The file has {count} problem{'s' if count != 1 else ''}; no deadline was published.",
        fields=fields,
        details={"problems": [problem.as_dict() for problem in problems]},
    )


def deadlines_upload(
    *,
    team: Team,
    filename: str,
    data: bytes,
    cohort: str = "",
    cohort_size: int | None = None,
    systems: Iterable[str] = (),
    timezone_name: str = "UTC",
    by: AbstractBaseUser | None = None,
    now: datetime | None = None,
) -> list[Deadline]:
    """Publish every deadline in the file for `team`, or raise naming each bad row and field.

    `cohort`, `cohort_size`, `systems` and `timezone_name` are the defaults
    for rows (or events) that do not give their own.
    """
    # Before parsing: someone who may not publish does not get the parser's time.
    check_can_publish(by=by, team=team)
    parsed = _parse(filename, data, default_zone=timezone_name, now=now or timezone.now())
    defaults = Defaults(team=team, cohort=cohort, cohort_size=cohort_size, systems=tuple(systems))
    cohorts = Cohorts(team=team)
    specs, unusable = resolve_all(parsed.entries, defaults=defaults, cohorts=cohorts)
    problems = [*parsed.problems, *unusable]
    if problems:
        raise _refuse(problems)
    if not specs:
        raise InvalidInput.for_field("file", "The file has no deadlines.")
    # One timeline refresh for the whole upload, not one per deadline.
    with transaction.atomic(), timeline_deferred():
        return [
            deadline_create(
                team=team,
                title=spec.title,
                due=spec.due,
                cohort=cohorts.ensure(spec.cohort_name),
                cohort_size=spec.cohort_size,
                systems=list(spec.systems),
                course=spec.course,
                external_uid=spec.uid,
                by=by,
            )
            for spec in specs
        ]

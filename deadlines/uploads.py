"""Bulk upload of deadlines from a CSV or an .ics file: all of them, or none.

Every row (or event) is read and checked before anything is written, so the
answer lists each problem with its row and field; only a clean file is
published, in one transaction, through the deadline services. An upload
names its source: uploading the same source again upserts by row (UID, or
title + course + due), so the same file twice changes nothing.
"""

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from deadlines.bulk import deadlines_create_bulk, deadlines_update_bulk, deadlines_withdraw_bulk
from deadlines.choices import DeadlineSource
from deadlines.entries import Cohorts, Defaults, Entry, Parsed, Problem, Spec, resolve_all
from deadlines.feeds.errors import FeedError
from deadlines.feeds.parse_ics import feed_window, parse_ics
from deadlines.models import Deadline
from deadlines.parse_csv import parse_csv
from deadlines.services import (
    check_can_publish,
    deadline_restore,
)
from scheduling.errors import InvalidInput
from scheduling.instants import LATEST
from scheduling.models import Team
from scheduling.services.calendar_batch import calendar_batch
from scheduling.timeline.bulk import timeline_deferred

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
    # Every occurrence, not only the horizon's: a feed is synced again as the
    # horizon rolls on, an upload never is, so the later ones were lost. An
    # endless rule then meets the occurrence cap: a row error asking for an end.
    window = replace(feed_window(now=now), until=LATEST)
    try:
        return parse_ics(data, window=window, default_zone=default_zone)
    except FeedError as exc:
        raise InvalidInput.for_field("file", str(exc)) from None


class UploadRefused(InvalidInput):
    """The file's problems, row by row; nothing was published."""

    def __init__(self, problems: list[Problem], *, outcome: str = "no deadline was published"):
        fields: dict[str, list[str]] = {}
        for problem in problems:
            fields.setdefault(f"{problem.where}.{problem.field}", []).append(problem.message)
        count = len(problems)
        super().__init__(
            f"The file has {count} problem{'s' if count != 1 else ''}; {outcome}.",
            fields=fields,
            details={"problems": [problem.as_dict() for problem in problems]},
        )
        self.problems = problems

    def for_preview(self) -> "UploadRefused":
        """The same problems, told as a preview's: a preview never publishes."""
        return UploadRefused(
            self.problems, outcome="fix them to preview what publishing it would change"
        )


@dataclass
class UploadSummary:
    """What an upload did, row by row: a second identical upload only counts unchanged."""

    created: list[Deadline] = field(default_factory=list)
    updated: list[Deadline] = field(default_factory=list)
    unchanged: list[Deadline] = field(default_factory=list)
    withdrawn: list[Deadline] = field(default_factory=list)

    @property
    def current(self) -> list[Deadline]:
        return sorted([*self.created, *self.updated, *self.unchanged], key=lambda d: (d.due, d.pk))

    def counts(self) -> dict[str, int]:
        return {
            "created": len(self.created),
            "updated": len(self.updated),
            "unchanged": len(self.unchanged),
            "withdrawn": len(self.withdrawn),
        }


def row_key(spec: Spec) -> str:
    """The row's identity across uploads: its UID (ICS), else title, course, cohort and
    due (CSV): two cohorts with the same project due at once are two deadlines.

    Case and surrounding spaces do not count; the due instant is compared in
    UTC, so the same row written with another offset is the same row. A row
    without a cohort keeps the key rows had before cohorts counted.
    """
    if spec.uid:
        return spec.uid
    return _digest(spec, cohort=True)


def _key_before_cohorts(spec: Spec) -> str | None:
    """The key a CSV row with a cohort had when only title, course and due counted."""
    return None if spec.uid or not spec.cohort_name else _digest(spec, cohort=False)


def _digest(spec: Spec, *, cohort: bool) -> str:
    named = [spec.title, spec.course, *([spec.cohort_name] if cohort and spec.cohort_name else [])]
    text = "\x1f".join([*(part.strip().casefold() for part in named), spec.due.isoformat()])
    return "row:" + hashlib.sha256(text.encode()).hexdigest()[:32]


def _keyed(specs: list[Spec], entries: list[Entry]) -> dict[str, Spec]:
    """The specs by key; two rows with one key are refused, naming both (the second
    would otherwise replace the first without a word)."""
    keyed: dict[str, Spec] = {}
    first: dict[str, str] = {}
    problems = []
    for spec, entry in zip(specs, entries, strict=True):
        key = row_key(spec)
        if key in keyed:
            problems.append(
                Problem(
                    where=entry.where,
                    field="title",
                    message=f"The same deadline as {first[key]} (title, course, cohort and "
                    "due): give it once, or tell the two apart.",
                )
            )
            continue
        keyed[key] = spec
        first[key] = entry.where
    if problems:
        raise UploadRefused(problems)
    return keyed


def _differs(deadline: Deadline, spec: Spec) -> bool:
    return (
        deadline.title != spec.title
        or deadline.course != spec.course
        or deadline.cohort_name != spec.cohort_name
        or deadline.cohort_size != spec.cohort_size
        or deadline.due != spec.due
        or {system.slug for system in deadline.systems.all()} != set(spec.systems)
    )


def deadlines_upload(
    *,
    team: Team,
    filename: str,
    data: bytes,
    source_name: str = "",
    cohort: str = "",
    cohort_size: int | None = None,
    systems: Iterable[str] = (),
    timezone_name: str = "UTC",
    by: AbstractBaseUser | None = None,
    now: datetime | None = None,
) -> UploadSummary:
    """Make `team`'s deadlines from `source_name` match the file, or raise naming each bad row.

    Rows are upserted by UID (ICS) or by title, course, cohort and due (CSV); a row
    that left the source is withdrawn. `source_name` defaults to the file's
    name. `cohort`, `cohort_size`, `systems` and `timezone_name` are the
    defaults for rows (or events) that do not give their own.
    """
    # Before parsing: someone who may not publish does not get the parser's time.
    check_can_publish(by=by, team=team)
    now = now or timezone.now()
    source_name = (source_name or filename or "upload").strip()[:200]
    parsed = _parse(filename, data, default_zone=timezone_name, now=now)
    defaults = Defaults(team=team, cohort=cohort, cohort_size=cohort_size, systems=tuple(systems))
    cohorts = Cohorts(team=team)
    specs, unusable = resolve_all(parsed.entries, defaults=defaults, cohorts=cohorts)
    problems = [*parsed.problems, *unusable]
    if problems:
        raise UploadRefused(problems)
    if not specs:
        raise InvalidInput.for_field("file", "The file has no deadlines.")
    keyed = _keyed(specs, list(parsed.entries))
    # One timeline refresh for the whole upload, not one per deadline, and one
    # calendar change and one re-evaluation task for it.
    batch = calendar_batch(reason=f"deadlines uploaded from '{source_name}'")
    with transaction.atomic(), timeline_deferred(), batch:
        return _apply(
            team=team, keyed=keyed, source_name=source_name, cohorts=cohorts, by=by, now=now
        )


def _claim_before_cohorts(
    existing: dict[str, Deadline], spec: Spec, *, key: str, rekeyed: list[Deadline]
) -> Deadline | None:
    """The deadline an earlier upload stored for this row under its key from before
    cohorts counted, given `key` (saved with the others in `rekeyed`); None when
    there is none for this cohort."""
    earlier = _key_before_cohorts(spec)
    deadline = existing.get(earlier) if earlier else None
    if deadline is None or deadline.cohort_name.casefold() != spec.cohort_name.casefold():
        return None
    del existing[earlier]
    deadline.external_uid = key
    rekeyed.append(deadline)
    return deadline


def _apply(
    *,
    team: Team,
    keyed: dict[str, Spec],
    source_name: str,
    cohorts: Cohorts,
    by: AbstractBaseUser | None,
    now: datetime,
) -> UploadSummary:
    """Upsert the source's rows by key and withdraw those that left it, in bulk
    (the publishing rule was checked once, before parsing)."""
    existing = {
        deadline.external_uid: deadline
        for deadline in Deadline.objects.select_for_update(of=("self",))
        .filter(team=team, source=DeadlineSource.UPLOAD, upload_source=source_name)
        .select_related("cohort")
        .prefetch_related("systems")
    }
    summary = UploadSummary()
    new: list[tuple[str, Spec]] = []
    changed: list[tuple[Deadline, Spec]] = []
    rekeyed: list[Deadline] = []
    for key, spec in keyed.items():
        deadline = existing.pop(key, None) or _claim_before_cohorts(
            existing, spec, key=key, rekeyed=rekeyed
        )
        if deadline is None:
            new.append((key, spec))
            continue
        restored = deadline.withdrawn_at is not None
        if restored:
            deadline_restore(deadline=deadline)
        if _differs(deadline, spec) or restored:
            changed.append((deadline, spec))
        else:
            summary.unchanged.append(deadline)
    Deadline.objects.bulk_update(rekeyed, ["external_uid"], batch_size=500)
    gone = [deadline for deadline in existing.values() if deadline.withdrawn_at is None]
    summary.created = deadlines_create_bulk(
        team=team,
        specs=[spec for _, spec in new],
        keys=[key for key, _ in new],
        cohorts=cohorts,
        now=now,
        source=DeadlineSource.UPLOAD,
        upload_source=source_name,
        by=by,
    )
    deadlines_update_bulk(changes=changed, team=team, cohorts=cohorts, now=now)
    summary.updated = [deadline for deadline, _ in changed]
    deadlines_withdraw_bulk(deadlines=gone, now=now)
    summary.withdrawn = gone
    return summary

"""Writes to the stored timeline, inside the caller's transaction.

Every calendar change calls one of these with what it moved: a range and the
systems of a blackout or deadline change, one job, one system's allowed
windows, the freeze, or the dependency graph. Each rewrites only the rows it
owns inside that range. `timeline_rebuild` writes everything from the raw
rows; `timeline_differences` compares the stored rows with such a rebuild.
"""

import json
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from django.db import connection, transaction
from django.db.models import Max, Min, Q
from psycopg.types.json import Jsonb

from scheduling.choices import BOOKED_STATUSES, FindingKind, JobStatus, Severity
from scheduling.conflicts import window_sources
from scheduling.engine import FAR_FUTURE, BusyWindow, WindowQuery
from scheduling.freezes import freeze_intervals, freeze_message
from scheduling.models import (
    AllowedWindowOccurrence,
    JobOccurrence,
    MaintenanceJob,
    System,
    TimelineInterval,
    TimelineKind,
    TimelineReach,
)
from scheduling.timeline import deferral
from scheduling.timeline.build import FLOOR, deadline_detail, gaps, traffic_steps

# Kinds kept by range refreshes from the configured window sources; the other
# kinds belong to `scheduling` and are refreshed by what owns them.
RANGE_KINDS = (FindingKind.BLACKOUT, FindingKind.DEADLINE)
_ROW_FIELDS = (
    "origin_id",
    "kind",
    "start",
    "end",
    "source",
    "severity",
    "load",
    "impact",
    "title",
    "message",
    "url",
    "team",
    "detail",
)


def _slug_ids() -> dict[str, int]:
    return dict(System.objects.values_list("slug", "pk"))


def _row(*, origin_id: int | None, window: BusyWindow, kind: str | None = None, **extra) -> dict:
    row = {
        "origin_id": origin_id,
        "kind": kind or window.kind,
        "start": window.start,
        "end": window.end,
        "source": window.source,
        "severity": window.severity or "",
        "load": window.load,
        "impact": window.impact or "",
        "title": window.title,
        "message": window.message,
        "url": window.url,
        "team": window.team,
        "detail": {},
    }
    row.update(extra)
    return row


# From this many rows on, PostgreSQL takes them by COPY: a feed sync's tens of
# thousands of traffic steps went in several times faster than by INSERT.
COPY_FROM = 200


def _insert(rows: Iterable[dict]) -> int:
    rows = list(rows)
    if connection.vendor == "postgresql" and len(rows) >= COPY_FROM:
        _copy(rows)
        return len(rows)
    TimelineInterval.objects.bulk_create([TimelineInterval(**row) for row in rows], batch_size=1000)
    return len(rows)


def _copy(rows: list[dict]) -> None:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(name) for name in _ROW_FIELDS)
    statement = f"COPY {quote(TimelineInterval._meta.db_table)} ({columns}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(
                [Jsonb(row[name]) if name == "detail" else row[name] for name in _ROW_FIELDS]
            )


# --- rows from the configured sources (blackouts, deadline traffic) ---------


def _source_windows(*, start: datetime, end: datetime, systems: frozenset[str]) -> list[BusyWindow]:
    """The configured sources' blackout and deadline windows touching [start, end)."""
    query = WindowQuery(start=start, end=end, systems=systems)
    found = []
    for source in window_sources():
        # scheduling's own sources (jobs, allowed windows, freeze) are kept by
        # the functions below, which know which rows they own.
        if source.__module__ == "scheduling.sources":
            continue
        found.extend(w for w in source(query=query) if w.kind in RANGE_KINDS)
    return found


def _blackout_rows(windows: Iterable[BusyWindow], ids: dict[str, int], origins: set[int] | None):
    for window in windows:
        if window.kind != FindingKind.BLACKOUT:
            continue
        if not window.systems:
            if origins is None:
                yield _row(origin_id=None, window=window)
            continue
        for slug in sorted(window.systems):
            origin = ids.get(slug)
            if origin is not None and (origins is None or origin in origins):
                yield _row(origin_id=origin, window=window)


def _traffic_rows(windows: list[BusyWindow], *, slug: str, origin: int, start, end):
    deadlines = [w for w in windows if w.kind == FindingKind.DEADLINE]
    for step in traffic_steps(deadlines, system=slug, start=start, end=end):
        yield {
            "origin_id": origin,
            "kind": TimelineKind.TRAFFIC,
            "start": step.start,
            "end": step.end,
            "source": f"traffic:{slug}",
            "severity": "",
            "load": step.load,
            "impact": "",
            "title": f"{step.load:,} students on {slug}",
            "message": "",
            "url": "",
            "team": "",
            "detail": {"deadlines": [deadline_detail(w) for w in step.windows]},
        }


def timeline_refresh_range(
    *,
    start: datetime,
    end: datetime,
    systems: Iterable[str] | None,
    kinds: Iterable[str] = RANGE_KINDS,
) -> None:
    """Rewrite the blackout and traffic rows of `systems` (None: all) touching [start, end).

    Traffic is recomputed over the steps that touch the range, widened to
    their own ends, so the stored step function stays the one a full rebuild
    would make: a step is split only where its set of deadlines changes.
    """
    kinds = set(kinds) & set(RANGE_KINDS)
    if not kinds or start >= end:
        return
    pending = deferral.pending()
    if pending is not None:
        pending.append((start, end, None if systems is None else list(systems), kinds))
        return
    ids = _slug_ids()
    slugs = frozenset(ids) if systems is None else frozenset(s for s in systems if s in ids)
    origins = None if systems is None else {ids[s] for s in slugs}
    scope = Q() if origins is None else Q(origin_id__in=origins)
    if FindingKind.BLACKOUT in kinds:
        TimelineInterval.objects.filter(
            scope, kind=TimelineKind.BLACKOUT, start__lt=end, end__gt=start
        ).delete()
        windows = _source_windows(start=start, end=end, systems=slugs)
        _insert(_blackout_rows(windows, ids, origins))
    if FindingKind.DEADLINE in kinds and slugs:
        touching = TimelineInterval.objects.filter(
            scope, kind=TimelineKind.TRAFFIC, start__lte=end, end__gte=start
        )
        spans = {
            origin: (min(lo, start), max(hi, end))
            for origin, lo, hi in touching.values("origin_id")
            .annotate(lo=Min("start"), hi=Max("end"))
            .values_list("origin_id", "lo", "hi")
        }
        touching.delete()
        lo = min([start, *(s for s, _ in spans.values())])
        hi = max([end, *(e for _, e in spans.values())])
        windows = _source_windows(start=lo, end=hi, systems=slugs)
        rows = []
        for slug in sorted(slugs):
            origin = ids[slug]
            span_lo, span_hi = spans.get(origin, (start, end))
            rows.extend(
                _traffic_rows(windows, slug=slug, origin=origin, start=span_lo, end=span_hi)
            )
        _insert(rows)


def timeline_refresh_system(*, slug: str) -> None:
    """Rewrite every blackout and traffic row of one system (after it was renamed)."""
    timeline_refresh_range(start=FLOOR, end=FAR_FUTURE, systems=[slug])


# --- rows scheduling owns: jobs, allowed windows, the freeze, the reach -----


def _maintenance_rows(jobs: Iterable[MaintenanceJob]) -> list[dict]:
    jobs = list(jobs)
    through = MaintenanceJob.impacted_systems.through
    impacted: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for job_id, system_id, slug in (
        through.objects.filter(maintenancejob_id__in=[j.pk for j in jobs])
        .order_by("system__slug")
        .values_list("maintenancejob_id", "system_id", "system__slug")
    ):
        impacted[job_id].append((system_id, slug))
    windows: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    for job_id, lo, hi in JobOccurrence.objects.filter(job__in=jobs).values_list(
        "job_id", "start", "end"
    ):
        windows[job_id].append((lo, hi))
    rows = []
    for job in jobs:
        status = job.get_status_display().lower()
        approved = job.status == JobStatus.APPROVED
        detail = {
            "team_name": job.team.name,
            "impact_display": job.get_impact_display().lower(),
            "job_title": job.title,
            "status": status,
            "impacted": [slug for _, slug in impacted[job.pk]],
        }
        for lo, hi in windows[job.pk]:
            for system_id, _ in impacted[job.pk]:
                rows.append(
                    {
                        "origin_id": system_id,
                        "kind": TimelineKind.MAINTENANCE,
                        "start": lo,
                        "end": hi,
                        "source": f"job:{job.pk}",
                        # As scheduling.sources: only an approved booking
                        # gives its team a say; a pending one only flags.
                        "severity": "" if approved else Severity.FLAG,
                        "load": 0,
                        "impact": job.impact,
                        "title": f"{job.title} ({status})",
                        "message": "",
                        "url": f"/jobs/{job.pk}/",
                        "team": job.team.slug if approved else "",
                        "detail": detail,
                    }
                )
    return rows


def timeline_refresh_jobs_of_team(*, team_id: int) -> None:
    """Rewrite the rows of a team's booked jobs (they carry its slug and name)."""
    jobs = list(
        MaintenanceJob.objects.filter(team_id=team_id, status__in=BOOKED_STATUSES).select_related(
            "team"
        )
    )
    TimelineInterval.objects.filter(source__in=[f"job:{job.pk}" for job in jobs]).delete()
    _insert(_maintenance_rows(jobs))


def timeline_refresh_job(*, job_id: int) -> None:
    """Rewrite one job's maintenance rows: its windows while it is pending or approved."""
    TimelineInterval.objects.filter(source=f"job:{job_id}").delete()
    jobs = MaintenanceJob.objects.filter(pk=job_id, status__in=BOOKED_STATUSES).select_related(
        "team"
    )
    _insert(_maintenance_rows(jobs))


def _outside_rows(systems: Iterable[System]) -> list[dict]:
    systems = [s for s in systems if s.has_maintenance_window]
    allowed: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    for system_id, lo, hi in AllowedWindowOccurrence.objects.filter(system__in=systems).values_list(
        "system_id", "start", "end"
    ):
        allowed[system_id].append((lo, hi))
    rows = []
    for system in systems:
        message = (
            f"{system.slug} allows maintenance only in its window "
            f"({system.window_rrule} at {system.window_start_time:%H:%M} "
            f"{system.window_timezone} for {system.window_duration})."
        )
        for lo, hi in gaps(allowed[system.pk]):
            rows.append(
                {
                    "origin_id": system.pk,
                    "kind": TimelineKind.OUTSIDE_WINDOW,
                    "start": lo,
                    "end": hi,
                    "source": f"system:{system.slug}",
                    "severity": Severity.REFUSE,
                    "load": 0,
                    "impact": "",
                    "title": f"Outside {system.slug}'s maintenance window",
                    "message": message,
                    "url": f"/systems/{system.slug}/",
                    "team": system.team.slug,
                    "detail": {},
                }
            )
    return rows


def timeline_refresh_allowed(*, system: System) -> None:
    """Rewrite the gaps between one system's allowed windows (all of them: they are few)."""
    TimelineInterval.objects.filter(origin=system, kind=TimelineKind.OUTSIDE_WINDOW).delete()
    _insert(_outside_rows(System.objects.filter(pk=system.pk).select_related("team")))


def _freeze_rows() -> list[dict]:
    """Every stretch of every live freeze: one row per system it names, or one for all."""
    ids = _slug_ids()
    rows = []
    for interval in freeze_intervals(start=FLOOR, end=FAR_FUTURE):
        origins = [None] if not interval.systems else sorted(ids[s] for s in interval.systems)
        for origin in origins:
            rows.append(
                {
                    "origin_id": origin,
                    "kind": TimelineKind.FREEZE,
                    "start": interval.start,
                    "end": interval.end,
                    "source": f"freeze:{interval.freeze_id}",
                    "severity": Severity.REFUSE,
                    "load": 0,
                    "impact": "",
                    "title": "Change freeze",
                    "message": freeze_message(interval),
                    "url": "/freeze/",
                    "team": "",
                    "detail": {},
                }
            )
    return rows


def timeline_refresh_freeze() -> None:
    TimelineInterval.objects.filter(kind=TimelineKind.FREEZE).delete()
    _insert(_freeze_rows())


def _reach_pairs() -> set[tuple[int, int]]:
    """(system, reached) for every system: itself and its dependents, transitively."""
    dependents: dict[int, set[int]] = defaultdict(set)
    through = System.depends_on.through
    for dependent, dependency in through.objects.values_list("from_system_id", "to_system_id"):
        dependents[dependency].add(dependent)
    pairs = set()
    for system_id in System.objects.values_list("pk", flat=True):
        seen = {system_id}
        frontier = [system_id]
        while frontier:
            frontier = [d for s in frontier for d in dependents[s] if d not in seen]
            seen.update(frontier)
        pairs.update((system_id, reached) for reached in seen)
    return pairs


def timeline_refresh_reach() -> None:
    """Rewrite the dependency closure (after a system or a dependency changed)."""
    wanted = _reach_pairs()
    stored = set(TimelineReach.objects.values_list("system_id", "reached_id"))
    stale = stored - wanted
    if stale:
        query = Q()
        for system_id, reached_id in stale:
            query |= Q(system_id=system_id, reached_id=reached_id)
        TimelineReach.objects.filter(query).delete()
    TimelineReach.objects.bulk_create(
        [TimelineReach(system_id=s, reached_id=r) for s, r in wanted - stored], batch_size=1000
    )


# --- the whole picture -------------------------------------------------------


def expected_rows() -> list[dict]:
    """Every row a full rebuild writes, from the raw calendars."""
    ids = _slug_ids()
    windows = _source_windows(start=FLOOR, end=FAR_FUTURE, systems=frozenset(ids))
    rows = list(_blackout_rows(windows, ids, None))
    # Each system's deadlines picked out in one pass: filtering every window
    # again for every system grew with systems x deadlines (scale 5: 2,500 x 500,000).
    deadlines: dict[str, list[BusyWindow]] = defaultdict(list)
    for window in windows:
        if window.kind == FindingKind.DEADLINE:
            for slug in window.systems or ids:
                deadlines[slug].append(window)
    for slug, origin in sorted(ids.items()):
        rows.extend(
            _traffic_rows(deadlines[slug], slug=slug, origin=origin, start=FLOOR, end=FAR_FUTURE)
        )
    jobs = MaintenanceJob.objects.filter(status__in=BOOKED_STATUSES).select_related("team")
    rows.extend(_maintenance_rows(jobs))
    rows.extend(_outside_rows(System.objects.exclude(window_rrule="").select_related("team")))
    rows.extend(_freeze_rows())
    return rows


def timeline_rebuild() -> int:
    """Rewrite the whole timeline from the raw calendars; the number of rows written.

    The rows are worked out before the writing transaction opens, so it is
    not left idle while Python folds 100,000 deadlines (PostgreSQL ends
    sessions idle in a transaction after DB_IDLE_IN_TRANSACTION_MS).
    """
    rows = expected_rows()
    with transaction.atomic():
        timeline_refresh_reach()
        TimelineInterval.objects.all().delete()
        return _insert(rows)


def _canonical(row: dict) -> tuple:
    # JSON as text with sorted keys: SQLite and PostgreSQL hand detail back alike.
    return tuple(
        json.dumps(row[f], sort_keys=True, default=str) if f == "detail" else row[f]
        for f in _ROW_FIELDS
    )


def timeline_differences(*, limit: int = 20) -> list[str]:
    """What differs between the stored timeline and a full rebuild (empty: nothing)."""
    differences = []
    if set(TimelineReach.objects.values_list("system_id", "reached_id")) != _reach_pairs():
        differences.append("reach: the stored dependency closure is stale")
    expected = defaultdict(int)
    for row in expected_rows():
        expected[_canonical(row)] += 1
    stored = defaultdict(int)
    for row in TimelineInterval.objects.values(*_ROW_FIELDS):
        stored[_canonical(row)] += 1
    for key in sorted(set(expected) | set(stored), key=lambda k: (str(k[3]), str(k[1]))):
        if expected[key] > stored[key]:
            differences.append(f"missing: {_describe(key)}")
        elif stored[key] > expected[key]:
            differences.append(f"extra: {_describe(key)}")
        if len(differences) >= limit:
            break
    return differences


def _describe(key: tuple) -> str:
    fields = dict(zip(_ROW_FIELDS, key, strict=True))
    return (
        f"{fields['kind']} {fields['source']} on system #{fields['origin_id']} "
        f"[{fields['start'].isoformat()}, {fields['end'].isoformat()}) load={fields['load']}"
    )

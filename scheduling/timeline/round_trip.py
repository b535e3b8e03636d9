"""The gate's and state's reads as one statement each (PostgreSQL).

With the per-process caches off (as on several app machines), a hot gate
asked the database seven questions (the lock bound set and put back, the
job, its systems, its windows, the reach, the rows) and state five: each a
round trip, each planned anew by PostgreSQL, most of them compiled by the
ORM first, and together they cost several times the answer. Here each
question is one constant statement, prepared once per connection
(db.read_prepared), whose rows come back as JSON arrays. The walks that need
more than their first stretch read on through the selectors.

SQLite keeps the ORM reads: in process, a read costs no round trip. Both
give the same answers (the CI and timeline tests run on both databases).
"""

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from django.conf import settings
from django.db import connection

from scheduling import db, window_cache
from scheduling.choices import JobStatus, Severity
from scheduling.engine import BusyWindow, Thresholds
from scheduling.models import TimelineInterval
from scheduling.models.jobs import change_type_of
from scheduling.timeline import selectors
from scheduling.timeline.selectors import FIELDS, Reached


def applies() -> bool:
    """Whether questions are read as one statement: the stored timeline on PostgreSQL,
    and no per-process cache that would answer them instead."""
    return state_applies() and not window_cache.enabled()


def state_applies() -> bool:
    """Whether state reads its first stretch as one statement: the stored timeline on
    PostgreSQL, caches or not. Its answers are cached per instant asked about, so a
    pipeline polling "now" never asks the same question twice: with the caches on,
    the walks read their first stretch through the ORM on every poll instead."""
    return settings.CLEARWAY_TIMELINE and connection.vendor == "postgresql"


# Stored rows as JSON arrays in FIELDS order, earliest first.
_COLUMNS = ", ".join(f'"{name}"' for name in FIELDS)
_ROWS_JSON = f"json_agg(json_build_array({_COLUMNS}) ORDER BY start, id)"
_START, _END = FIELDS.index("start"), FIELDS.index("end")

# The job (j) with its window holding `at` and the next one after it, the only
# two the gate looks at; what its systems reach (x); the window the gate
# evaluates (w: none for a cancelled or done job, and an empty range overlaps
# nothing). Then the rows on the reach in w, and the notes' probes.
# Parameters: at (3), the job (3), then the job once for each %s of the probes.
_GATE = (  # noqa: S608 - constant SQL, values as parameters
    "WITH j AS MATERIALIZED (SELECT j.id, j.team_id, j.status, j.impact, j.emergency, "
    'j.review_round, j.findings, j.template_id, c.start AS cs, c."end" AS ce, '
    'n.start AS ns, n."end" AS ne FROM scheduling_maintenancejob j '
    'LEFT JOIN LATERAL (SELECT o.start, o."end" FROM scheduling_joboccurrence o '
    'WHERE o.job_id = j.id AND o.start <= %s AND o."end" > %s ORDER BY o.start LIMIT 1) c ON TRUE '
    'LEFT JOIN LATERAL (SELECT o.start, o."end" FROM scheduling_joboccurrence o '
    "WHERE o.job_id = j.id AND o.start > %s ORDER BY o.start LIMIT 1) n ON TRUE "
    "WHERE j.id = %s), "
    "x AS MATERIALIZED (SELECT array_agg(r.reached_id ORDER BY r.reached_id) AS ids, "
    "array_agg(t.slug ORDER BY r.reached_id) AS slugs FROM scheduling_timelinereach r "
    "JOIN scheduling_maintenancejob_systems m ON m.system_id = r.system_id "
    "JOIN scheduling_system t ON t.id = r.reached_id WHERE m.maintenancejob_id = %s), "
    "w AS (SELECT COALESCE(cs, ns) AS lo, COALESCE(ce, ne) AS hi FROM j "
    "WHERE status NOT IN ('{cancelled}', '{done}')) "
    "SELECT j.id, j.team_id, j.status, j.impact, j.emergency, j.review_round, j.findings, "
    "j.template_id, j.cs, j.ce, j.ns, j.ne, x.ids, x.slugs, "
    "ARRAY(SELECT s.slug FROM scheduling_maintenancejob_systems m JOIN scheduling_system s "
    "ON s.id = m.system_id WHERE m.maintenancejob_id = %s ORDER BY s.slug), "
    "(SELECT {rows_json} FROM scheduling_timelineinterval WHERE {rows}){{probes}} FROM j, x"
).format(
    cancelled=JobStatus.CANCELLED.value,
    done=JobStatus.DONE.value,
    rows_json=_ROWS_JSON,
    rows=selectors.own_rows(
        ids="(SELECT ids FROM x)",
        lo="COALESCE((SELECT lo FROM w), 'infinity')",
        hi="COALESCE((SELECT hi FROM w), 'infinity')",
    ),
)


@dataclass(frozen=True)
class GateRows:
    """A job as the gate reads it at `at`, and the busy picture of the window it evaluates."""

    job: dict
    impacted: frozenset[str]
    # Busy windows in the window holding `at`, or else the next one (the job's own left out).
    windows: list[BusyWindow]
    # For each note probe given, whether it has something to say.
    notes: tuple[bool, ...]


def gate_rows(*, job_id: int, at: datetime, probes: tuple[str, ...]) -> GateRows | None:
    """Job `job_id` (None: there is none) with what its gate needs at `at`: one statement.

    Each probe is SQL selecting a row when a gate note has something to say
    about the job, each `%s` in it standing for the job's id.
    """
    sql = _GATE.format(probes="".join(f", EXISTS ({probe})" for probe in probes))
    probe_params = [job_id] * sum(probe.count("%s") for probe in probes)
    row = db.read_prepared(sql, [at, at, at, job_id, job_id, job_id, *probe_params])
    if row is None:
        return None
    (pk, team_id, status, impact, emergency, review_round, findings, template_id) = row[:8]
    cur_start, cur_end, next_start, next_end, ids, slugs, systems, rows = row[8:16]
    impacted = _reached(systems, ids, slugs)
    windows = tuple(w for w in ((cur_start, cur_end), (next_start, next_end)) if w[0])
    job = {
        "pk": pk,
        "team_id": team_id,
        "status": status,
        "impact": impact,
        "emergency": emergency,
        "review_round": review_round,
        "findings": tuple(_json(findings)),
        "systems": tuple(systems),
        "windows": windows,
        "change_type": change_type_of(emergency=emergency, template_id=template_id),
    }
    checked = windows[0] if windows else (at, at)
    found = selectors.windows_from(
        _stored(rows),
        ids=impacted.ids,
        where=impacted,
        start=checked[0],
        end=checked[1],
        exclude_job_id=pk,
    )
    return GateRows(job=job, impacted=impacted, windows=found, notes=tuple(row[16:]))


# What the systems asked about reach (x); which of them exist; then one scan of
# the first stretch of a walk on the reach: each row that refuses, flags or
# holds the instant asked about, earliest first, at most a batch, with whether
# it refuses and whether it flags, and all its columns when it holds the
# instant. Parameters: the slugs (2); each condition's; the instant (end,
# start); the stretch (2, twice); each condition's; the instant; the batch.
_STATE = (
    "WITH x AS MATERIALIZED (SELECT array_agg(r.reached_id ORDER BY r.reached_id) AS ids, "
    "array_agg(t.slug ORDER BY r.reached_id) AS slugs FROM scheduling_timelinereach r "
    "JOIN scheduling_system s ON s.id = r.system_id "
    "JOIN scheduling_system t ON t.id = r.reached_id WHERE s.slug = ANY(%s)) "
    "SELECT ARRAY(SELECT slug FROM scheduling_system WHERE slug = ANY(%s)), x.ids, x.slugs, "
    '(SELECT json_agg(json_build_array(start, "end", id, refuses, flags, held) '
    "ORDER BY start, id) FROM ("
    'SELECT start, "end", id, ({refuse}) AS refuses, ({flag}) AS flags, '
    'CASE WHEN start < %s AND "end" > %s THEN json_build_array({columns}) END AS held '
    "FROM scheduling_timelineinterval WHERE {rows} "
    'AND (({refuse}) OR ({flag}) OR (start < %s AND "end" > %s)) '
    "ORDER BY start, id LIMIT %s) f) FROM x"
)


@dataclass(frozen=True)
class StateRows:
    """What a state question needs first, read ahead in one statement.

    The rows are None when the first stretch holds a batch or more of them:
    the walks then read as they would without this.
    """

    known: frozenset[str]
    impacted: frozenset[str]
    # The first stretch of each walk (selectors.blocked's `first`).
    refusing: list[tuple[datetime, datetime, int]] | None
    flagging: list[tuple[datetime, datetime, int]] | None
    # The busy windows at the instant asked about.
    instant: list[BusyWindow] | None


def state_rows(
    *, systems: list[str], at: datetime, origin: datetime, impact: str, thresholds: Thresholds
) -> StateRows:
    """The systems' names checked, their reach, the first stretch from `origin` of what
    refuses and of what flags, and the windows at `at`: one statement."""
    asked = sorted(set(systems))
    refuse, refuse_params = blocking_sql(
        impact=impact, thresholds=thresholds, at_least=Severity.REFUSE
    )
    flag, flag_params = blocking_sql(impact=impact, thresholds=thresholds, at_least=Severity.FLAG)
    instant = [at + timedelta(microseconds=1), at]
    stretch = [origin, origin + selectors.FIRST_STRETCH] * 2
    conditions = [*refuse_params, *flag_params]
    batch = selectors.BATCH
    params = [asked, asked, *conditions, *instant, *stretch, *conditions, *instant, batch]
    known, ids, slugs, scanned = db.read_prepared(_state_sql(refuse=refuse, flag=flag), params)
    impacted = _reached(asked, ids, slugs)
    rows = _json(scanned) or []
    if len(rows) >= batch:
        return StateRows(frozenset(known), impacted, None, None, None)
    held = _stored([row[5] for row in rows if row[5] is not None])
    first = [(datetime.fromisoformat(row[0]), datetime.fromisoformat(row[1]), row) for row in rows]
    return StateRows(
        known=frozenset(known),
        impacted=impacted,
        refusing=[(a, b, row[2]) for a, b, row in first if row[3]],
        flagging=[(a, b, row[2]) for a, b, row in first if row[4]],
        instant=selectors.windows_from(
            held, ids=impacted.ids, where=impacted, start=at, end=instant[0]
        ),
    )


@lru_cache(maxsize=64)
def _state_sql(*, refuse: str, flag: str) -> str:
    """The state statement for these two conditions (the same text each time: prepared once)."""
    return _STATE.format(
        refuse=refuse,
        flag=flag,
        columns=_COLUMNS,
        rows=selectors.own_rows(ids="(SELECT ids FROM x)", lo="%s", hi="%s"),
    )


# Which of the systems asked about exist; what they reach (x); the stored rows
# on the reach in [start, end). Parameters: the slugs (2), the range (2, twice).
_CHECK = (  # noqa: S608 - constant SQL, values as parameters
    "WITH x AS MATERIALIZED (SELECT array_agg(r.reached_id ORDER BY r.reached_id) AS ids, "
    "array_agg(t.slug ORDER BY r.reached_id) AS slugs FROM scheduling_timelinereach r "
    "JOIN scheduling_system s ON s.id = r.system_id "
    "JOIN scheduling_system t ON t.id = r.reached_id WHERE s.slug = ANY(%s)) "
    "SELECT ARRAY(SELECT slug FROM scheduling_system WHERE slug = ANY(%s)), x.ids, x.slugs, "
    "(SELECT {rows_json} FROM scheduling_timelineinterval WHERE {rows}) FROM x"
).format(
    rows_json=_ROWS_JSON,
    rows=selectors.own_rows(ids="(SELECT ids FROM x)", lo="%s", hi="%s"),
)


@dataclass(frozen=True)
class CheckRows:
    """What a check of a window needs, read in one statement."""

    known: frozenset[str]
    impacted: frozenset[str]
    # Busy windows touching the window (the excluded job's own left out).
    windows: list[BusyWindow]


def check_rows(
    *, systems: list[str], start: datetime, end: datetime, exclude_job_id: int | None
) -> CheckRows:
    """The systems' names checked, their reach and the busy windows in [start, end):
    one statement (the ORM path reads them in three)."""
    asked = sorted(set(systems))
    known, ids, slugs, rows = db.read_prepared(_CHECK, [asked, asked, start, end, start, end])
    impacted = _reached(asked, ids, slugs)
    found = selectors.windows_from(
        _stored(rows),
        ids=impacted.ids,
        where=impacted,
        start=start,
        end=end,
        exclude_job_id=exclude_job_id,
    )
    return CheckRows(known=frozenset(known), impacted=impacted, windows=found)


@lru_cache(maxsize=64)
def blocking_sql(*, impact: str, thresholds: Thresholds, at_least: str) -> tuple[str, tuple]:
    """selectors.blocking as SQL for the statements above, compiled by the ORM once per
    shape: the rule keeps one home. Only SQL text is kept here, never rows."""
    query = TimelineInterval.objects.filter(
        selectors.blocking(impact=impact, thresholds=thresholds, at_least=at_least, exclude=None)
    ).query
    sql, params = query.get_compiler(connection=connection).compile(query.where)
    return sql, tuple(params)


def _reached(asked, ids: list[int] | None, slugs: list[str] | None) -> Reached:
    """As selectors.reach builds it: the slugs asked about plus what they reach."""
    found = dict(zip(ids or (), slugs or (), strict=True))
    reached = Reached(frozenset(asked) | frozenset(found.values()))
    reached.ids = found
    return reached


def _json(value):
    return json.loads(value) if isinstance(value, str) else value


def _stored(rows) -> list[list]:
    """Rows from JSON as the ORM gives them: their instants as datetimes."""
    found = _json(rows) if isinstance(rows, str) else rows or []
    for row in found:
        row[_START] = datetime.fromisoformat(row[_START])
        row[_END] = datetime.fromisoformat(row[_END])
    return found

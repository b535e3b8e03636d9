"""The first clear gaps between blocked rows, found by the database in one read.

Walking blocked rows into Python a stretch at a time costs what lies between
the instant asked about and the first gap: at dense traffic (most hours of a
system flagged) that was weeks of rows and up to 18 reads. Here each system's
blocking rows come out of its own (origin, start) index already in order, are
merged into one ordered stream, and a running maximum of their ends (a window
function) marks each gap; the query stops at the `count`th gap long enough.
The rows straddling the starting instant come from the overlap index, and a
row at the far end closes the last gap. Backwards (`before=` only) is the
mirror image: ordered by end, latest first, with a running minimum of starts.
"""

from datetime import UTC, datetime, timedelta
from functools import lru_cache

from django.db import connection
from django.db.models import Q
from django.utils.dateparse import parse_datetime

from scheduling import db
from scheduling.choices import Severity
from scheduling.engine import Thresholds
from scheduling.models import TimelineInterval
from scheduling.timeline.selectors import Reached, _ids, _rows, blocking

# SQLite measures a gap in floating-point days: ask it for a little less, and
# keep the exact test in Python.
_SQLITE_SLACK = timedelta(seconds=1)
_MICROSECOND = timedelta(microseconds=1)


def gaps(
    *,
    where: frozenset[str],
    impact: str,
    thresholds: Thresholds,
    start: datetime,
    end: datetime,
    longer_than: timedelta,
    count: int,
    exclude_job_id: int | None = None,
    backwards: bool = False,
) -> list[tuple[datetime, datetime]]:
    """Up to `count` gaps of at least `longer_than` between the rows that block work
    of `impact` on `where` in [start, end): earliest first (backwards: latest first).

    Fewer than `count` means there are no more before `end` (after `start`).
    """
    exclude = f"job:{exclude_job_id}" if exclude_job_id is not None else None
    postgresql = connection.vendor == "postgresql"
    shape = (impact, thresholds, exclude, backwards)
    rows, params = _blocking_rows(where=where, shape=shape, start=start, end=end)
    if postgresql:
        fits, least = "w.hi - w.lo >= %s", longer_than
    else:
        fits = "(julianday(w.hi) - julianday(w.lo)) * 86400.0 >= %s"
        least = (longer_than - _SQLITE_SLACK).total_seconds()
    # The frame ends one row back, so the aggregate grows row by row
    # (excluding the current row instead would recompute it for every row).
    # Ordered on one column, the merged per-system scans need no sort; rows
    # that tie give the same gap whichever comes first.
    frame = "ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING"
    if backwards:
        cover = f"MIN(b.s) OVER (ORDER BY b.e DESC {frame})"
        select, order = f"b.e AS lo, COALESCE({cover}, {_instant()}) AS hi", "w.lo DESC"
    else:
        cover = f"MAX(b.e) OVER (ORDER BY b.s {frame})"
        select, order = f"COALESCE({cover}, {_instant()}) AS lo, b.s AS hi", "w.hi"
    # ORM-compiled SQL and constants; every value is a parameter.
    sql = f"SELECT w.lo, w.hi FROM (SELECT {select} FROM ({rows}) AS b) AS w "  # noqa: S608
    sql += f"WHERE {fits} ORDER BY {order} LIMIT %s"
    if postgresql:
        # One row of two arrays, so the statement is prepared once per connection
        # (db.read_prepared) instead of planned on every check.
        found = db.read_prepared(
            f"SELECT array_agg(g.lo ORDER BY {order.replace('w.', 'g.')}), "  # noqa: S608
            f"array_agg(g.hi ORDER BY {order.replace('w.', 'g.')}) FROM ({sql}) AS g",
            [end if backwards else start, *params, least, count],
        )
        return list(zip(found[0] or (), found[1] or (), strict=True)) if found else []
    with connection.cursor() as cursor:
        cursor.execute(sql, [_db(end if backwards else start), *params, least, count])
        return [(_read(lo), _read(hi)) for lo, hi in cursor.fetchall()]


def _blocking_rows(
    *, where: frozenset[str], shape: tuple, start: datetime, end: datetime
) -> tuple[str, list]:
    """_stream for (impact, thresholds, the excluded source, backwards): on
    PostgreSQL compiled once per shape, elsewhere on each call."""
    impact, thresholds, exclude, backwards = shape
    if connection.vendor == "postgresql":
        return _stream_compiled(
            where=where,
            shape=(impact, thresholds, exclude is not None, backwards),
            values={
                _START: start,
                _END: end,
                _EXCLUDE: exclude,
                _START + _MICROSECOND: start + _MICROSECOND,
                _END - _MICROSECOND: end - _MICROSECOND,
            },
        )
    condition = blocking(
        impact=impact, thresholds=thresholds, at_least=Severity.FLAG, exclude=exclude
    )
    return _stream(where=where, condition=condition, start=start, end=end, backwards=backwards)


def _stream(
    *, where: frozenset[str], condition: Q, start: datetime, end: datetime, backwards: bool
) -> tuple[str, list]:
    """Every blocking row in [start, end) as (s, e), ordered, cut at the starting edge,
    with a zero-length row at the far end."""
    parts: list[str] = []
    params: list = []
    inside = TimelineInterval.objects.filter(condition)
    if backwards:
        inside = inside.filter(end__lte=end, end__gt=start).order_by("-end")
        held = _rows(where=where, start=end - _MICROSECOND, end=end, extra=condition)
        held, cut = held.filter(end__gt=end).values_list("start"), f'x."start", {_instant()}'
        edge, far = end, start
    else:
        inside = inside.filter(start__gte=start, start__lt=end).order_by("start")
        held = _rows(where=where, start=start, end=start + _MICROSECOND, extra=condition)
        held, cut = held.filter(start__lt=start).values_list("end"), f'{_instant()}, x."end"'
        edge, far = start, end
    # One ordered index scan per system, and one for the rows on every system.
    # The branches differ only in the origin: compiled once, the system put in
    # front of the condition (compiling one per system cost more than the read).
    sql, values = inside.values_list("start", "end").query.sql_with_params()
    head, _, tail = sql.partition(" WHERE ")
    where_clause, _, order = tail.rpartition(" ORDER BY ")
    column = '"scheduling_timelineinterval"."origin_id"'
    for origin, extra in [(f"{column} = %s", [pk]) for pk in sorted(_ids(where))] + [
        (f"{column} IS NULL", [])
    ]:
        branch = f"{head} WHERE {origin} AND ({where_clause}) ORDER BY {order}"
        parts.append(f'SELECT x."start" AS s, x."end" AS e FROM ({branch}) AS x')  # noqa: S608
        params.extend([*extra, *values])
    sql, values = held.query.sql_with_params()
    parts.append(f"SELECT {cut} FROM ({sql}) AS x")  # noqa: S608
    params.extend([_db(edge), *values])
    parts.append(f"SELECT {_instant()}, {_instant()}")
    params.extend([_db(far), _db(far)])
    return " UNION ALL ".join(parts), params


# Stand-ins compiled into the PostgreSQL statement once per shape, then
# swapped for the values asked about: compiling the ORM queries cost more than
# the read itself.
_START = datetime(2001, 2, 3, 4, 5, 6, 7, tzinfo=UTC)
_END = datetime(2002, 3, 4, 5, 6, 7, 8, tzinfo=UTC)
_EXCLUDE = "job:-1"
_IDS = [-1]


def _stream_compiled(*, where: frozenset[str], shape: tuple, values: dict) -> tuple[str, list]:
    """_stream on PostgreSQL, its SQL compiled once per shape and number of systems."""
    ids = sorted(_ids(where))
    sql, template = _stream_template(shape, len(ids))
    swapped = iter(ids)
    params = []
    for value in template:
        if value is _IDS:
            params.append(ids)
        elif isinstance(value, _System):
            params.append(next(swapped))
        elif isinstance(value, datetime | str) and value in values:
            params.append(values[value])
        else:
            params.append(value)
    return sql, params


class _System(int):
    """The stand-in for one system's id in a compiled statement."""


@lru_cache(maxsize=128)
def _stream_template(shape: tuple, systems: int) -> tuple[str, tuple]:
    impact, thresholds, excluding, backwards = shape
    condition = blocking(
        impact=impact,
        thresholds=thresholds,
        at_least=Severity.FLAG,
        exclude=_EXCLUDE if excluding else None,
    )
    where = Reached(f"s{n}" for n in range(systems))
    where.ids = {_System(-(n + 2)): f"s{n}" for n in range(systems)}
    sql, params = _stream(
        where=where, condition=condition, start=_START, end=_END, backwards=backwards
    )
    # _rows passes the ids as one array: mark it so the real ones take its place.
    ids = sorted(where.ids)
    return sql, tuple(_IDS if p == ids and isinstance(p, list) else p for p in params)


def _instant() -> str:
    # SQLite keeps instants as text; a CAST there would turn them into numbers.
    return "CAST(%s AS timestamp with time zone)" if connection.vendor == "postgresql" else "%s"


def _db(moment: datetime):
    return connection.ops.adapt_datetimefield_value(moment)


def _read(value) -> datetime:
    if isinstance(value, datetime):
        return value
    return parse_datetime(value).replace(tzinfo=UTC)

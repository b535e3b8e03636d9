"""Telling a busy database from a broken request, and retrying what may be retried."""

import contextlib
import functools
import itertools
import random
import re
import secrets
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import (
    DEFAULT_DB_ALIAS,
    DatabaseError,
    InterfaceError,
    OperationalError,
    connection,
    connections,
    transaction,
)
from django.db.models import Model

# PostgreSQL SQLSTATEs: lock_not_available, query_canceled (statement_timeout),
# idle_in_transaction_session_timeout, too_many_connections, cannot_connect_now.
BUSY_STATES = {"55P03", "57014", "25P03", "53300", "57P03"}
# serialization_failure and deadlock_detected: the transaction may simply be retried.
RETRY_STATES = {"40001", "40P01"}
RETRY_ATTEMPTS = 3
# The server went away: admin_shutdown and crash_shutdown (pg_terminate_backend,
# a failover, a restart) and the connection_exception class (08xxx).
GONE_STATES = {"57P01", "57P02"}
# What psycopg and Django say when a connection died without a SQLSTATE.
GONE_TEXTS = (
    "server closed the connection",
    "terminating connection",
    "connection already closed",
    "the connection is closed",
    "connection is lost",
    "could not connect",
    "connection failed",  # psycopg's connect error: refused, unknown host, timeout
    "connection refused",
    "consuming input failed",
)
# A bookkeeping write waits at most this long for a lock, then is skipped.
BOOKKEEPING_LOCK_TIMEOUT = "10ms"

# The one answer to a busy database, from the middleware (pages) and the API's
# exception handler alike: 503, this body, and Retry-After.
RETRY_AFTER_SECONDS = 5
BUSY_BODY = {"code": "busy", "message": "Clearway's database is busy; try again in a few seconds."}
BUSY_HEADERS = {"Retry-After": str(RETRY_AFTER_SECONDS)}


def _sqlstate(exc: BaseException) -> str | None:
    while exc is not None:
        state = getattr(exc, "sqlstate", None)
        if state:
            return state
        exc = exc.__cause__ or exc.__context__
    return None


def is_busy(exc: BaseException) -> bool:
    """The database could not serve this now (locks, timeouts, pool, a lost
    connection), but may soon: the answer is 503 with Retry-After, never 500."""
    if isinstance(exc, InterfaceError):
        # Not a DatabaseError in Django: "connection already closed".
        return True
    if _cache_unreachable(exc):
        return True
    if not isinstance(exc, DatabaseError):
        return False
    state = _sqlstate(exc)
    if state in BUSY_STATES | RETRY_STATES:
        return True
    return is_disconnect(exc) or _busy_text(exc)


def _cache_unreachable(exc: BaseException) -> bool:
    """The shared cache (Redis, CACHE_URL) did not answer: throttles and sign-in
    limits cannot be counted, so the request is refused as "try again"."""
    try:
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeout
    except ImportError:  # pragma: no cover - redis is a dependency
        return False
    return isinstance(exc, RedisConnectionError | RedisTimeout)


def _busy_text(exc: BaseException) -> bool:
    text = str(exc).lower()
    cause = exc.__cause__
    return (
        "database is locked" in text
        or "couldn't get a connection" in text
        or type(cause).__name__ == "PoolTimeout"
    )


def is_disconnect(exc: BaseException) -> bool:
    """The connection to the database is gone; the next request opens a new one
    (CONN_HEALTH_CHECKS, or the pool's check)."""
    if isinstance(exc, InterfaceError):
        return True
    if not isinstance(exc, DatabaseError):
        return False
    state = _sqlstate(exc) or ""
    if state in GONE_STATES or state.startswith("08"):
        return True
    text = str(exc).lower()
    return any(phrase in text for phrase in GONE_TEXTS)


def write_without_waiting(write: Callable[[], object]) -> bool:
    """Run a bookkeeping write (a token's last_used) only if it needs no wait.

    A read must never wait behind its own bookkeeping: on PostgreSQL the write
    gets its own transaction with a lock timeout of a few milliseconds and is
    skipped (returns False) when a lock or anything else stands in the way.
    Callers run it outside any transaction (authentication, a feed poll);
    inside one it is simply part of that transaction, whose lock timeout stays.
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        write()
        return True
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT set_config('lock_timeout', %s, true)", [BOOKKEEPING_LOCK_TIMEOUT]
                )
            write()
    except DatabaseError:
        return False
    return True


# The lock bound of the innermost lock_wait_at_most block (None outside any),
# and whether the statement running now carries it itself (read_prepared).
_bound: ContextVar[str | None] = ContextVar("lock_bound", default=None)
_carried: ContextVar[bool] = ContextVar("lock_bound_carried", default=False)


@contextmanager
def lock_wait_at_most(*, milliseconds: int) -> Iterator[None]:
    """Within the block, a statement waits at most `milliseconds` for a lock
    (PostgreSQL; SQLite has no such setting), then fails as busy.

    The bound is set before the first statement that needs it, and put back
    at the end only if it was set: a block whose reads all go through
    read_prepared (which carries the bound itself) costs no round trip for it.
    """
    if connection.vendor != "postgresql":
        yield
        return
    value = f"{milliseconds}ms"
    guard = _LazyBound(value)
    token = _bound.set(value)
    try:
        with connection.execute_wrapper(guard):
            yield
    finally:
        _bound.reset(token)
        if guard.previous is not None:
            # If the connection died or its transaction failed, a new connection
            # starts from the configured timeout anyway.
            with contextlib.suppress(DatabaseError):
                _set_lock_timeout(guard.previous)


class _LazyBound:
    """An execute wrapper that sets the lock timeout before the first statement
    that does not carry it, and remembers the value to put back."""

    def __init__(self, value: str) -> None:
        self.value = value
        self.previous: str | None = None
        self._setting = False

    def __call__(self, execute, sql, params, many, context):
        if self.previous is None and not self._setting and not _carried.get():
            self._setting = True
            try:
                self.previous = _set_lock_timeout(self.value)
            finally:
                self._setting = False
        return execute(sql, params, many, context)


def read_prepared(sql: str, params: list) -> tuple | None:
    """The first row of one read-only statement that PostgreSQL prepares once per connection.

    Sent with server-side binding, so it is prepared on first use (the
    `prepare_threshold` of the settings; the ORM's client-side cursors are
    never prepared) instead of planned on every request. Under the lock
    bound of an enclosing lock_wait_at_most block, the bound goes with it
    (_bounded_read). Logged and counted like any query (CaptureQueriesContext,
    execute wrappers).
    """
    db = connections[DEFAULT_DB_ALIAS]  # the wrapper itself: the proxy costs a lookup per use
    db.close_if_health_check_failed()
    db.ensure_connection()
    bound = _bound.get()
    token = _carried.set(True)
    try:
        with db.wrap_database_errors:
            kept = _kept(db.connection)
            if bound:
                return _bounded_read(db, kept, sql, params, bound)
            reading = _wrapped(db, kept.server)
            reading.execute(_numbered(sql), params)
            return reading.fetchone()
    finally:
        _carried.reset(token)


def _bounded_read(db, kept: "_Kept", sql: str, params: list, bound: str) -> tuple | None:
    """The bound and the read as one message of two statements, so one round trip
    and one implicit transaction: set_config's `is_local` holds for the read
    alone and needs no putting back, and the read takes its locks after it.

    Such a message is bound on the client, so outside a transaction the read
    is the EXECUTE of a statement PREPAREd in SQL once per connection, in the
    same message the first time (under the bound too: preparing takes the
    same locks). psycopg deallocates every prepared statement after a
    rollback; the read then finds its own gone and prepares it again. Inside
    a transaction (tests), or with DB_PREPARED=0 (a transaction-pooling
    PgBouncer), the read is sent whole, and inside a transaction the bound
    lasts to its end: only shorter lock waits for the rest of it.
    """
    if db.in_atomic_block or db.settings_dict["OPTIONS"].get("prepare_threshold", 0) is None:
        return _send(db, kept, bound, sql, params)
    try:
        return _send_prepared(db, kept, bound, sql, params)
    except DatabaseError as exc:
        if _sqlstate(exc) not in _PREPARE_AGAIN:
            raise
    kept.names.clear()
    return _send_prepared(db, kept, bound, sql, params)


# invalid_sql_statement_name: EXECUTE of a statement this session does not
# hold; duplicate_prepared_statement: a PREPARE of a name it already holds
# (through a pooler that hands out another process's session).
_PREPARE_AGAIN = {"26000", "42P05"}
# Per process, so two processes sharing a session through a pooler never
# prepare the same name.
_PROCESS = secrets.token_hex(4)


def _send_prepared(db, kept: "_Kept", bound: str, sql: str, params: list) -> tuple | None:
    """The EXECUTE of `sql`'s prepared statement, after its PREPARE if it has none yet."""
    name = kept.names.get(sql)
    if name is not None:
        return _send(db, kept, bound, f"EXECUTE {name}{_arguments(params)}", params)
    # A new name for every attempt: a PREPARE outlives the failure of the
    # message that carried it, so the same name could clash.
    kept.count += 1
    name = f"clearway_read_{_PROCESS}_{kept.count}"
    types = f"({_types(params)})" if params else ""
    # The message is bound on the client: a literal % stays doubled in it.
    preparing = f"PREPARE {name}{types} AS {_numbered(sql, percent='%%')}; "
    try:
        row = _send(db, kept, bound, f"{preparing}EXECUTE {name}{_arguments(params)}", params)
    except DatabaseError:
        # The PREPARE may have outlived the EXECUTE that failed: let it go.
        with contextlib.suppress(DatabaseError, InterfaceError), db.cursor() as cursor:
            cursor.execute(f"DEALLOCATE {name}")
        raise
    kept.names[sql] = name
    return row


def _arguments(params: list) -> str:
    return f"({', '.join(['%s'] * len(params))})" if params else ""


def _send(db, kept: "_Kept", bound: str, statement: str, params: list) -> tuple | None:
    reading = _wrapped(db, kept.client)
    reading.execute(f"SELECT set_config('lock_timeout', %s, true); {statement}", [bound, *params])
    while reading.nextset():  # past the set_config (and a PREPARE): the rows come last
        pass
    return reading.fetchone()


_PLACEHOLDER = re.compile(r"%([s%])")


@functools.lru_cache(maxsize=256)
def _numbered(sql: str, *, percent: str = "%") -> str:
    """`sql` with PostgreSQL's numbered parameters for the client's `%s`.

    The reads are sent so, through a raw cursor: psycopg converts `%s` itself
    only up to 4,096 characters and 50 parameters, and the gaps read of a
    system with a long reach is longer, so it split the statement anew on
    every check.
    """
    numbers = itertools.count(1)
    return _PLACEHOLDER.sub(lambda m: f"${next(numbers)}" if m[1] == "s" else percent, sql)


def _types(params: list) -> str:
    return ", ".join(_type(value) for value in params)


def _type(value) -> str:
    if value is None:
        return "unknown"
    if isinstance(value, list | tuple):
        return f"{_type(value[0]) if value else 'text'}[]"
    for kind, name in _PG_TYPES:
        if isinstance(value, kind):
            return name
    raise TypeError(f"No PostgreSQL type for a {type(value).__name__} parameter")


# bool before int: a bool is an int.
_PG_TYPES = (
    (bool, "boolean"),
    (int, "bigint"),
    (float, "double precision"),
    (str, "text"),
    (datetime, "timestamptz"),
    (timedelta, "interval"),
)


@dataclass
class _Kept:
    """A connection's two cursors (server-side binding with numbered parameters, and
    client-side binding) and its statements prepared in SQL, kept: a psycopg cursor
    copies the connection's adapters when made, which cost more than using it."""

    server: object
    client: object
    names: dict[str, str] = field(default_factory=dict)
    count: int = 0


_cursors: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _kept(raw) -> _Kept:
    from django.db.backends.postgresql.base import Cursor
    from psycopg import RawCursor

    kept = _cursors.get(raw)
    if kept is None or kept.server.closed:
        kept = _cursors[raw] = _Kept(server=RawCursor(raw), client=Cursor(raw))
    return kept


def _wrapped(db, cursor):
    """A Django cursor wrapper: logged and counted, through the execute wrappers."""
    return db.make_debug_cursor(cursor) if db.queries_logged else db.make_cursor(cursor)


def _set_lock_timeout(value: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('lock_timeout'), set_config('lock_timeout', %s, false)",
            [value],
        )
        return cursor.fetchone()[0]


def retry_on_conflict[T](func: Callable[..., T]) -> Callable[..., T]:
    """Run a transactional operation again after a serialization failure or deadlock.

    Only around the outermost transaction: retrying inside one would repeat
    half of it on an aborted transaction.
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs) -> T:
        if connection.in_atomic_block:
            return func(*args, **kwargs)
        for attempt in range(1, RETRY_ATTEMPTS + 1):
            try:
                return func(*args, **kwargs)
            except OperationalError as exc:
                if _sqlstate(exc) not in RETRY_STATES or attempt == RETRY_ATTEMPTS:
                    raise
                time.sleep(random.uniform(0.01, 0.05) * attempt)
        raise AssertionError("unreachable")

    return wrapper


def update_rows(
    model: type[Model], objects: Sequence[Model], fields: Sequence[str], *, bump: Sequence[str] = ()
) -> None:
    """UPDATE each object's `fields` by primary key, and add 1 to the `bump` fields.

    `bulk_update` builds one CASE per field over every object in a batch; for
    a feed sync's 5,000 deadlines compiling it cost more than the writes.
    This sends one small UPDATE per row through `executemany` (pipelined by
    psycopg).
    """
    if not objects:
        return
    meta, quote = model._meta, connection.ops.quote_name
    written = [meta.get_field(name) for name in fields]
    bumped = [quote(meta.get_field(name).column) for name in bump]
    assignments = [f"{quote(field.column)} = %s" for field in written]
    assignments += [f"{column} = {column} + 1" for column in bumped]
    table, key = quote(meta.db_table), quote(meta.pk.column)
    # Names quoted from the model, values bound as parameters.
    sql = f"UPDATE {table} SET {', '.join(assignments)} WHERE {key} = %s"  # noqa: S608
    rows = [
        [field.get_db_prep_save(getattr(obj, field.attname), connection) for field in written]
        + [obj.pk]
        for obj in objects
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)

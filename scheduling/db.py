"""Telling a busy database from a broken request, and retrying what may be retried."""

import functools
import random
import time
from collections.abc import Callable

from django.db import DatabaseError, OperationalError, connection

# PostgreSQL SQLSTATEs: lock_not_available, query_canceled (statement_timeout),
# idle_in_transaction_session_timeout, too_many_connections, cannot_connect_now.
BUSY_STATES = {"55P03", "57014", "25P03", "53300", "57P03"}
# serialization_failure and deadlock_detected: the transaction may simply be retried.
RETRY_STATES = {"40001", "40P01"}
RETRY_ATTEMPTS = 3


def _sqlstate(exc: BaseException) -> str | None:
    while exc is not None:
        state = getattr(exc, "sqlstate", None)
        if state:
            return state
        exc = exc.__cause__ or exc.__context__
    return None


def is_busy(exc: BaseException) -> bool:
    """The database could not serve this now (locks, timeouts, pool), but may soon."""
    if not isinstance(exc, DatabaseError):
        return False
    if _sqlstate(exc) in BUSY_STATES | RETRY_STATES:
        return True
    text = str(exc).lower()
    cause = exc.__cause__
    return (
        "database is locked" in text
        or "couldn't get a connection" in text
        or type(cause).__name__ == "PoolTimeout"
    )


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

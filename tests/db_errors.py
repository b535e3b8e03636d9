"""What Django raises for PostgreSQL's retryable errors, their psycopg cause included.

`scheduling.db.retry_on_conflict` reads the SQLSTATE off the cause, so a test
that injects one of these exercises the same path as the real failure.
"""

import psycopg
from django.db import OperationalError


def _raised(cause: type[psycopg.Error], text: str) -> OperationalError:
    try:
        raise cause(text)
    except psycopg.Error as raised:
        error = OperationalError(str(raised))
        error.__cause__ = raised
        return error


def serialization_failure() -> OperationalError:
    """SQLSTATE 40001."""
    return _raised(psycopg.errors.SerializationFailure, "could not serialize access")


def deadlock() -> OperationalError:
    """SQLSTATE 40P01."""
    return _raised(psycopg.errors.DeadlockDetected, "deadlock detected")

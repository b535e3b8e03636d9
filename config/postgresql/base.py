"""Django's PostgreSQL backend, with a health check that costs no round trip
while the connection is plainly alive.

CONN_HEALTH_CHECKS sends `SELECT 1` before the first query of every request:
on the hot gate that was a second round trip for an answer that needs one. A
server that ends a session (pg_terminate_backend, a restart, a failover, an
idle timeout) says so on the socket, with its error and its end of stream, so
an idle connection with nothing to read is alive as far as any round trip
could tell; one with something to read gets the real check. A host that
vanishes without a word is not found by either before the query times out.
"""

import select

from django.db.backends.postgresql import base
from psycopg import pq


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        raw = self.connection
        if raw is None or raw.closed or raw.pgconn.status != pq.ConnStatus.OK:
            return False
        if raw.pgconn.transaction_status != pq.TransactionStatus.IDLE or _has_input(raw):
            return super().is_usable()
        return True


def _has_input(raw) -> bool:
    """Whether the server sent something unasked (an error, the end of the stream).

    poll, not select: select refuses descriptors past 1,023, which a busy
    process reaches, and every check would then ask the server again.
    """
    try:
        watch = select.poll()
        watch.register(raw.fileno(), select.POLLIN)
        return bool(watch.poll(0))
    except (OSError, ValueError):
        return True

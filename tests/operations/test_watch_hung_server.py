"""A monitored server that accepts the connection, then never answers a query.

A stopped (SIGSTOP) or wedged server enforces no statement_timeout: only a
limit on Clearway's side keeps the sample, and the worker running it, from
waiting forever. The proxy below passes the login through to the local
PostgreSQL and then holds every query.
"""

import socket
import threading
import time
from contextlib import contextmanager, suppress

import pytest
from psycopg.conninfo import conninfo_to_dict

from operations.models import DatabaseMonitor, Observation, ObservationKind
from operations.services.monitors import database_monitor_save, encrypt
from operations.services.watch import monitors_sample_due
from tests.operations import monitored

pytestmark = pytest.mark.django_db


@contextmanager
def proxy_that_holds_queries(target_port: int):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    sockets = [listener]

    def pump(source, sink, first_only: bool):
        with suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
                if first_only:
                    return  # the startup packet went through; queries are held

    def serve():
        with suppress(OSError):
            while True:
                client, _ = listener.accept()
                server = socket.create_connection(("127.0.0.1", target_port))
                sockets.extend([client, server])
                threading.Thread(target=pump, args=(client, server, True), daemon=True).start()
                threading.Thread(target=pump, args=(server, client, False), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield listener.getsockname()[1]
    finally:
        for sock in sockets:
            with suppress(OSError):
                sock.close()


def test_a_server_that_never_answers_a_query_is_reported_not_waited_for(org, clock, settings):
    settings.CLEARWAY_WATCH_CONNECT_TIMEOUT = 2
    settings.CLEARWAY_WATCH_INTERVAL = 5  # statements get 2.5 s each: 8.5 s in all
    with monitored.monitored_database() as dsn:
        monitor = database_monitor_save(system="grading-db", dsn=dsn)
        params = conninfo_to_dict(dsn)
        with proxy_that_holds_queries(int(params.get("port", 5432))) as port:
            DatabaseMonitor.objects.filter(pk=monitor.pk).update(
                dsn_encrypted=encrypt(
                    f"postgresql://{params.get('user', 'postgres')}@127.0.0.1:{port}/"
                    f"{params['dbname']}?sslmode=disable&gssencmode=disable"
                ),
                next_sample_at=None,
            )
            began = time.monotonic()
            monitors_sample_due()
            took = time.monotonic() - began

    observation = Observation.objects.get()
    assert took < 15
    assert observation.kind == ObservationKind.UNREACHABLE
    assert "no answer within 8.5 s" in observation.detail

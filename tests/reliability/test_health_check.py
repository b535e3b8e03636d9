"""The connection health check (CONN_HEALTH_CHECKS) on PostgreSQL costs no round
trip while the connection is plainly alive, and still finds a dead one."""

import time

import psycopg
import pytest
from django.db import connection
from django.db.backends.postgresql import base as django_postgresql

from tests.reliability.conftest import postgres_only, shared_database_url

pytestmark = [postgres_only, pytest.mark.django_db(transaction=True)]


def test_an_idle_live_connection_is_usable_without_asking_the_server(monkeypatch):
    connection.ensure_connection()

    def round_trip(self):
        raise AssertionError("the health check asked the server")

    monkeypatch.setattr(django_postgresql.DatabaseWrapper, "is_usable", round_trip)

    assert connection.is_usable() is True


def test_a_connection_whose_session_was_terminated_is_found_unusable():
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    with psycopg.connect(shared_database_url(), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    time.sleep(0.2)  # the server's goodbye reaches the socket

    try:
        assert connection.is_usable() is False
    finally:
        connection.close()


def test_a_connection_with_something_unasked_to_read_gets_the_real_check(monkeypatch):
    connection.ensure_connection()
    asked = []

    def round_trip(self):
        asked.append(True)
        return True

    monkeypatch.setattr(django_postgresql.DatabaseWrapper, "is_usable", round_trip)
    with connection.cursor() as cursor:
        cursor.execute("LISTEN clearway_health")
    with psycopg.connect(shared_database_url(), autocommit=True) as other:
        other.execute("NOTIFY clearway_health")  # sent to this session, unread
    time.sleep(0.2)

    assert connection.is_usable() is True
    assert asked == [True]

"""PUT/GET/DELETE /api/v1/systems/{slug}/monitor: the monitoring DSN, tested on save,
stored encrypted, never shown again; administrators only."""

import socket

import pytest

from operations.models import DatabaseMonitor
from tests.ci.clients import bearer, token_for
from tests.operations import monitored
from tests.personas import as_user

pytestmark = pytest.mark.django_db

URL = "/api/v1/systems/grading-db/monitor"


@pytest.fixture
def dsn(settings):
    settings.CLEARWAY_WATCH_CONNECT_TIMEOUT = 2
    with monitored.monitored_database() as dsn:
        yield dsn


def with_password(dsn: str) -> str:
    # The local server trusts 127.0.0.1, so any password connects.
    return dsn.replace("postgres@", "postgres:s3cret-pw@").replace(
        "user=postgres", "user=postgres password=s3cret-pw"
    )


def test_an_admin_saves_a_working_dsn_and_the_answer_names_only_the_database(admin, dsn):
    response = as_user(admin).put(URL, {"dsn": with_password(dsn)}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert body["database"].startswith("clearway_monitored_")
    assert "dsn" not in body
    assert "s3cret-pw" not in response.content.decode()


def test_the_dsn_is_stored_encrypted(admin, dsn):
    as_user(admin).put(URL, {"dsn": with_password(dsn)}, format="json")

    stored = DatabaseMonitor.objects.get().dsn_encrypted
    assert "s3cret-pw" not in stored
    assert "clearway_monitored_" not in stored


def test_reading_the_monitor_never_shows_the_dsn(admin, dsn):
    client = as_user(admin)
    client.put(URL, {"dsn": with_password(dsn)}, format="json")

    response = client.get(URL)

    assert response.status_code == 200
    assert "s3cret-pw" not in response.content.decode()


def test_a_dsn_that_cannot_connect_is_a_400_saying_why_and_nothing_is_stored(admin, org):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now

    response = as_user(admin).put(
        URL, {"dsn": f"postgresql://monitor:pw@127.0.0.1:{port}/grading"}, format="json"
    )

    assert response.status_code == 400
    message = response.json()["errors"]["dsn"][0]
    assert message.startswith("Clearway could not read grading with this DSN:")
    assert "pw@" not in message
    assert not DatabaseMonitor.objects.exists()


def test_a_dsn_naming_an_unknown_database_is_a_400(admin, org):
    response = as_user(admin).put(
        URL, {"dsn": monitored.dsn_of("clearway_no_such_database_here")}, format="json"
    )

    assert response.status_code == 400
    assert "does not exist" in response.json()["errors"]["dsn"][0]


def test_text_that_is_no_dsn_is_a_400(admin, org):
    response = as_user(admin).put(URL, {"dsn": "not a dsn = = ="}, format="json")

    assert response.status_code == 400
    assert "dsn" in response.json()["errors"]


def test_a_team_member_who_is_no_admin_cannot_set_or_read_the_monitor(requester):
    client = as_user(requester)

    assert client.put(URL, {"dsn": "postgresql://x@127.0.0.1/y"}, format="json").status_code == 403
    assert client.get(URL).status_code == 403


def test_a_ci_token_cannot_touch_the_monitor(org):
    client = bearer(token_for(org["infra"], "gate:read", "jobs:run", "jobs:write"))

    assert client.get(URL).status_code == 403


def test_an_unknown_system_is_a_404(admin, org):
    response = as_user(admin).put(
        "/api/v1/systems/nope/monitor", {"dsn": "postgresql://x@127.0.0.1/y"}, format="json"
    )

    assert response.status_code == 404


def test_a_system_without_a_monitor_is_a_404_saying_so(admin, org):
    response = as_user(admin).get(URL)

    assert response.status_code == 404
    assert "has no monitoring connection" in response.json()["message"]


def test_a_role_that_cannot_see_other_sessions_is_refused_with_the_grant_to_give(admin, dsn):
    import uuid

    import psycopg
    from psycopg import sql

    role = f"clearway_blind_{uuid.uuid4().hex[:8]}"
    with monitored.admin_connection() as pg:
        pg.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
    try:
        blind = psycopg.conninfo.make_conninfo(dsn, user=role)
        response = as_user(admin).put(URL, {"dsn": blind}, format="json")
    finally:
        with monitored.admin_connection() as pg:
            pg.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))

    assert response.status_code == 400
    assert "GRANT pg_monitor" in response.json()["errors"]["dsn"][0]
    assert not DatabaseMonitor.objects.exists()

"""Access control: each test names the protection it proves."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from scheduling.services.tokens import api_token_create
from tests import builders

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def person(db):
    cache.clear()
    return builders.user("alice", team=builders.team("infra"))


def test_the_sixth_failed_sign_in_is_refused_even_with_the_right_password(person):
    browser = Client()
    for _ in range(5):
        browser.post("/accounts/login/", {"username": "alice", "password": "wrong"})

    locked = browser.post("/accounts/login/", {"username": "alice", "password": "pw"})

    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.content.decode()
    assert "_auth_user_id" not in browser.session


def test_a_session_write_without_the_csrf_token_is_refused(person):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(person)

    answer = client.post("/api/v1/api-tokens", {"name": "x", "team": "infra"}, format="json")

    assert answer.status_code == 403
    assert "CSRF" in answer.json()["message"]


@pytest.mark.django_db(transaction=True)
def test_no_plaintext_token_is_stored_anywhere_in_the_database(person):
    _, secret = api_token_create(team=builders.team("infra"), name="ci", scopes=["gate:read"])
    APIClient(HTTP_AUTHORIZATION=f"Bearer {secret}").get("/api/v1/ping")

    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            for column in connection.introspection.get_table_description(cursor, table):
                quoted_table = connection.ops.quote_name(table)
                quoted = connection.ops.quote_name(column.name)
                cursor.execute(f"SELECT {quoted} FROM {quoted_table}")
                if any(secret in str(value) for (value,) in cursor.fetchall()):
                    found.append(f"{table}.{column.name}")

    assert found == []


def test_a_revoked_token_is_refused_on_the_next_request(person):
    token, secret = api_token_create(team=builders.team("infra"), name="ci", scopes=["gate:read"])
    ci = APIClient(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert ci.get("/api/v1/ping").status_code == 200
    person.is_staff = True
    person.save()
    staff = APIClient()
    staff.force_authenticate(person)

    staff.delete(f"/api/v1/api-tokens/{token.pk}")

    assert ci.get("/api/v1/ping").status_code == 401


def _deploy_check(**extra: str) -> subprocess.CompletedProcess:
    # The browser tests set DJANGO_ALLOW_ASYNC_UNSAFE in this process; a
    # production process never has it.
    inherited = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {
        **inherited,
        "DEBUG": "0",
        "SECRET_KEY": "k" * 30 + "0123456789abcdefghijklmnopqrstuvwxyz",
        "ALLOWED_HOSTS": "clearway.example.org",
        "SECURE_SSL_REDIRECT": "1",
        "DATABASE_URL": "sqlite:////tmp/clearway-deploy-check.sqlite3",
        **extra,
    }
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_settings_pass_check_deploy_at_warning_level():
    done = _deploy_check()

    assert done.returncode == 0, done.stderr


def test_a_feed_allowlist_in_production_fails_check_deploy():
    done = _deploy_check(CLEARWAY_FEED_ALLOWED_NETWORKS="10.0.0.0/8")

    assert done.returncode != 0
    assert "clearway.W001" in done.stderr

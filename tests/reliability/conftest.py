"""Shared pieces of the reliability tests: the personas, and Clearway served by gunicorn.

Some protections live in how a real process connects (the PostgreSQL
session timeouts are connection options read at connect time, Django's
pool exists per process), so those tests run the app in a subprocess
against the test database, with the environment a deployment would set.
"""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from tests.personas import (  # noqa: F401
    admin,
    clock,
    colleague,
    curriculum_staff,
    org,
    outsider,
    requester,
    reviewer,
)

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL: lock_timeout, the connection pool and a database a second "
    "process can share (SQLite's test database lives in this process's memory)",
)


def shared_database_url() -> str:
    """DATABASE_URL of the test database pytest-django created (PostgreSQL only)."""
    db = connection.settings_dict
    user = quote(db["USER"] or "", safe="")
    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    return (
        f"postgres://{user}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def app_env(**extra: str) -> dict[str, str]:
    """Production-like settings for a subprocess on the test database."""
    env = {
        **os.environ,
        "DATABASE_URL": shared_database_url(),
        "DEBUG": "0",
        # The same key as this process: django-q2 signs the tasks it queues with it.
        "SECRET_KEY": settings.SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1",
        "CLEARWAY_TASKS_SYNC": "0",
        "LOG_LEVEL": "ERROR",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    env.update(extra)
    return env


@dataclass
class LiveApp:
    url: str
    process: subprocess.Popen


@contextmanager
def gunicorn(*, threads: int = 4, options: tuple[str, ...] = (), **env: str) -> Iterator[LiveApp]:
    """One gunicorn process (threads share its caches and its pool) on a free port."""
    port = free_port()
    process = subprocess.Popen(
        [
            str(GUNICORN),
            "config.wsgi",
            "--worker-class",
            "gthread",
            "--workers",
            "1",
            "--threads",
            str(threads),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            *options,
        ],
        cwd=ROOT,
        env=app_env(**env),
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=2):
                    break
            except (urllib.error.URLError, OSError):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.1)
        yield LiveApp(url=url, process=process)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)

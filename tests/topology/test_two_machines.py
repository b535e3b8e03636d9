"""Several app machines: two gunicorn instances (two workers each), two qcluster
workers, one PostgreSQL database and one Redis, all started and stopped here.

Per-process state would let each of the four app processes count its own rate
limit and sign-in failures, answer from its own stale copy, and each worker run
a schedule of its own; these checks fail in any of those cases. The test makes
its own database and uses its own Redis database, and always stops what it
started. PostgreSQL only: SQLite is one file on one machine.
"""

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psycopg
import pytest
import requests
from django.db import connection

from tests.redis_cache import redis_reachable
from tests.reliability.conftest import GUNICORN, ROOT, free_port

pytestmark = [
    pytest.mark.topology,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the topology needs PostgreSQL: app machines share one database server",
    ),
]

REDIS_URL = os.environ.get("CLEARWAY_TOPOLOGY_REDIS_URL", "redis://127.0.0.1:6379/5")
RATE = 10  # per minute, per token
FEED = (ROOT / "tests" / "deadlines" / "fixtures" / "canvas.ics").read_bytes()
SETUP = """
import json
from datetime import timedelta
from django.utils import timezone
from django_q.models import Schedule
from deadlines.feeds.services import deadline_feed_create
from deadlines.models import DeadlineFeed
from scheduling.services.tokens import api_token_create
from tests import builders

infra = builders.team("infra", email_addresses=[])
grading = builders.team("grading", email_addresses=[], webhook_url={hook!r})
curriculum = builders.team("curriculum", email_addresses=[])
builders.system("grading-db", owner=infra)
builders.system("grading-api", owner=grading, depends_on=["grading-db"])
builders.user("alice", team=infra)
_, ci = api_token_create(team=infra, name="ci", scopes=["gate:read", "jobs:write"])
_, polling = api_token_create(team=infra, name="polling", scopes=["gate:read"])
feed = deadline_feed_create(
    team=curriculum, url={feed!r}, cohort_size=100, systems=["grading-api"]
)
# Due now, and the one schedule that syncs due feeds fires at its next check.
now = timezone.now()
DeadlineFeed.objects.filter(pk=feed.pk).update(next_sync_at=now - timedelta(seconds=1))
Schedule.objects.filter(func="deadlines.tasks.sync_due_feeds").update(
    next_run=now - timedelta(seconds=1)
)
print(json.dumps({{"ci": ci, "polling": polling, "feed": feed.pk}}))
"""


class Recorder:
    """A local HTTP server that answers GET with the feed and POST with 200, and
    counts what it got."""

    def __init__(self) -> None:
        self.gets: list[str] = []
        self.posts: list[str] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                recorder.gets.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "text/calendar")
                self.send_header("Content-Length", str(len(FEED)))
                self.end_headers()
                self.wfile.write(FEED)

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                recorder.posts.append(self.headers.get("Idempotency-Key", ""))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def admin_url(database: str = "postgres") -> str:
    db = connection.settings_dict
    user = db["USER"] or "postgres"
    return f"postgres://{user}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{database}"


@contextmanager
def own_database() -> Iterator[str]:
    name = f"clearway_topology_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url(), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with psycopg.connect(admin_url(), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def flush_redis() -> None:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


def environment(database: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": admin_url(database),
        "CACHE_URL": REDIS_URL,
        # DEBUG=0 would serve pages only after collectstatic into the work tree.
        "DEBUG": "1",
        "SECRET_KEY": "topology-" + "k" * 50,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "SECURE_HSTS_SECONDS": "0",
        "CLEARWAY_TASKS_SYNC": "0",
        "CLEARWAY_API_RATE": f"{RATE}/min",
        "CLEARWAY_FEED_ALLOWED_NETWORKS": "127.0.0.0/8",
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "Q_WORKERS": "1",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }


def manage(env: dict, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@contextmanager
def process(args: list[str], env: dict, log: Path) -> Iterator[subprocess.Popen]:
    with log.open("w") as out:
        proc = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            yield proc
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)


def wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def healthy(url: str) -> bool:
    try:
        return requests.get(f"{url}/healthz", timeout=1).ok
    except requests.RequestException:
        return False


def sign_in(url: str, password: str) -> int:
    with requests.Session() as browser:
        page = browser.get(f"{url}/accounts/login/", timeout=10)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        answer = browser.post(
            f"{url}/accounts/login/",
            data={"username": "alice", "password": password, "csrfmiddlewaretoken": token},
            allow_redirects=False,
            timeout=10,
        )
        return answer.status_code


@pytest.mark.django_db
def test_two_app_machines_and_two_workers_behave_like_one(tmp_path):
    if not redis_reachable(REDIS_URL):
        pytest.skip(f"needs Redis at {REDIS_URL}")
    if not GUNICORN.exists():
        pytest.skip("needs gunicorn")
    recorder = Recorder()
    with ExitStack() as stack:
        stack.callback(recorder.close)
        database = stack.enter_context(own_database())
        flush_redis()
        stack.callback(flush_redis)
        env = environment(database)
        manage(env, "migrate", "--no-input", "-v0")
        setup = SETUP.format(hook=f"{recorder.url}/hook", feed=f"{recorder.url}/lms.ics")
        ids = json.loads(manage(env, "shell", "-c", setup).strip().splitlines()[-1])

        apps = []
        for name in ("a", "b"):
            port = free_port()
            command = [str(GUNICORN), "config.wsgi", "-w", "2", "-b", f"127.0.0.1:{port}"]
            stack.enter_context(process(command, env, tmp_path / f"app-{name}.log"))
            apps.append(f"http://127.0.0.1:{port}")
        for name in ("1", "2"):
            command = [sys.executable, "manage.py", "qcluster"]
            stack.enter_context(process(command, env, tmp_path / f"worker-{name}.log"))
        wait_until(lambda: all(healthy(url) for url in apps), 30, "both app instances")
        a, b = apps
        ci = {"Authorization": f"Bearer {ids['ci']}"}

        # A change made through one instance is answered by the other at once.
        job = requests.post(
            f"{a}/api/v1/jobs",
            json={
                "title": "Reindex",
                "team": "infra",
                "systems": ["grading-db"],
                "start": "2031-02-03T08:00:00Z",
                "end": "2031-02-03T10:00:00Z",
                "impact": "exclusive_lock",
            },
            headers=ci,
            timeout=10,
        ).json()
        gate = f"/api/v1/jobs/{job['id']}/gate?at=2031-02-03T09:00Z"
        for _ in range(4):  # both of b's workers hold the draft's gate answer
            assert "not been submitted" in requests.get(b + gate, headers=ci).text
        submitted = requests.post(f"{a}/api/v1/jobs/{job['id']}/submit", headers=ci, timeout=10)
        assert submitted.json()["status"] == "pending", submitted.text
        for _ in range(4):
            answer = requests.get(b + gate, headers=ci, timeout=10).json()
            assert "waiting for review by grading" in answer["reasons"][0]["message"], answer

        # A token's rate limit holds across both instances.
        polling = {"Authorization": f"Bearer {ids['polling']}"}
        statuses = [
            requests.get(f"{apps[n % 2]}/api/v1/ping", headers=polling, timeout=10).status_code
            for n in range(RATE + 4)
        ]
        assert statuses == [200] * RATE + [429] * 4, statuses

        # A sign-in limit holds across both: 5 failures, then even the right password waits.
        failures = [sign_in(apps[n % 2], "wrong") for n in range(5)]
        assert failures == [200] * 5
        assert sign_in(b, "pw") == 429
        assert sign_in(a, "pw") == 429

        # The notification of the submitted job is sent once with both workers running.
        wait_until(lambda: recorder.posts, 30, "the review request's webhook")

        # The feed sync scheduled once runs once (each worker's scheduler checks
        # every 30 s).
        wait_until(lambda: recorder.gets, 60, "the scheduled feed sync")
        with psycopg.connect(admin_url(database)) as db:
            wait_until(
                lambda: db.execute(
                    "SELECT last_success_at IS NOT NULL FROM deadlines_deadlinefeed WHERE id = %s",
                    [ids["feed"]],
                ).fetchone()[0],
                15,
                "the feed's sync to be recorded",
            )
        time.sleep(2)  # room for a duplicate to show up
        assert recorder.gets == ["/lms.ics"]
        assert len(recorder.posts) == 1, recorder.posts

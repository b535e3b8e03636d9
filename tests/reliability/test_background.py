"""Background work: enqueued with the change, delivered once, failures bounded and visible.

django-q2's ORM broker writes the queue row (OrmQ) in the caller's
transaction; a worker that dies mid-task leaves the row, which becomes
visible again after Q_CLUSTER["retry"] seconds; a webhook is sent with an
Idempotency-Key and its Delivery row says whether it was sent.
"""

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_q.conf import Conf
from django_q.models import OrmQ, Schedule
from django_q.scheduler import scheduler

from scheduling.models import Delivery
from scheduling.services.notifications import (
    MAX_ATTEMPTS,
    deliveries_retry_due,
    delivery_send,
    notify,
)
from tests import builders
from tests.reliability.conftest import ROOT, app_env, postgres_only


@pytest.fixture
def queued(settings):
    """Tasks go through the ORM broker, as in production, instead of running inline."""
    settings.CLEARWAY_TASKS_SYNC = False
    assert "orm" in settings.Q_CLUSTER


def ping(team, key: str = "event:1") -> list[Delivery]:
    return notify(key=key, event="test", teams=[team], subject="Hello", text="Hello", data={})


def queued_tasks() -> list[dict]:
    return [row.task for row in OrmQ.objects.all()]


# --- enqueueing is atomic with the change ---------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_change_enqueues_nothing_and_a_committed_one_exactly_one_task(queued):
    """Pass: the OrmQ row is written in the caller's transaction: 0 rows after a
    rollback; inside the committing transaction already 1, and exactly 1
    (send_delivery of the new Delivery) after the commit."""
    team = builders.team("infra")  # one channel: infra@example.org

    with pytest.raises(RuntimeError), transaction.atomic():
        assert len(ping(team)) == 1
        raise RuntimeError("the change fails after notifying")
    assert (Delivery.objects.count(), OrmQ.objects.count()) == (0, 0)

    with transaction.atomic():
        [delivery] = ping(team)
        # Written by this transaction, not after it: a crash between the commit
        # and an on_commit hook cannot lose the task.
        assert OrmQ.objects.count() == 1

    [task] = queued_tasks()
    assert task["func"] == "scheduling.tasks.send_delivery"
    assert task["args"] == (delivery.pk,)


# --- a worker killed mid-notification ------------------------------------------


class SlowReceiver:
    """A webhook endpoint that holds its first request until released; then answers 200.

    It records every request's Idempotency-Key, as a receiver that processes
    each key once would.
    """

    def __init__(self) -> None:
        self.keys: list[str] = []
        self.arrived = threading.Event()
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers["Content-Length"]))
                receiver.keys.append(self.headers["Idempotency-Key"])
                receiver.arrived.set()
                if len(receiver.keys) == 1:
                    receiver.release.wait(30)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def start_worker(log) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env=app_env(Q_WORKERS="1", LOG_LEVEL="INFO", CLEARWAY_FEED_ALLOWED_NETWORKS="127.0.0.0/8"),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(worker: subprocess.Popen, sig: int) -> None:
    os.killpg(worker.pid, sig)
    try:
        worker.wait(timeout=5)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=5)


def wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_notification_is_replaced_and_the_webhook_is_sent_once(
    queued, tmp_path, settings
):
    """Pass: SIGKILL the worker while its webhook POST is in flight: the Delivery stays
    pending (its row lock dies with the connection); once the broker's retry time
    has passed a new worker sends it again with the same Idempotency-Key, the row
    ends 'sent' after 1 recorded attempt and the queue is empty."""
    Schedule.objects.all().delete()  # only the task under test runs
    settings.CLEARWAY_FEED_ALLOWED_NETWORKS = ["127.0.0.0/8"]  # the receiver is local
    receiver = SlowReceiver()
    log = (tmp_path / "qcluster.log").open("w")
    try:
        team = builders.team("infra", email_addresses=[], webhook_url=receiver.url)
        with transaction.atomic():
            [delivery] = ping(team)

        first = start_worker(log)
        try:
            assert receiver.arrived.wait(30), "the first worker never sent the webhook"
        finally:
            stop(first, signal.SIGKILL)
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts) == ("pending", 0)
        assert OrmQ.objects.count() == 1, "the unacknowledged task stays queued"

        # The broker hides a task it handed out for Q_CLUSTER["retry"] seconds;
        # let that time pass instead of waiting three minutes.
        OrmQ.objects.update(lock=timezone.now() - timedelta(seconds=1))
        second = start_worker(log)
        try:
            sent = wait_for(
                lambda: Delivery.objects.filter(pk=delivery.pk, status="sent").exists(), 30
            )
            assert sent, (tmp_path / "qcluster.log").read_text()[-3000:]
            assert wait_for(lambda: not OrmQ.objects.exists(), 10), "the task was acknowledged"
        finally:
            stop(second, signal.SIGTERM)
    finally:
        receiver.close()
        log.close()

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 1)
    key = f"{delivery.key}:{delivery.channel}"
    assert receiver.keys == [key, key], "sent again after the kill, under the same key"
    assert len(set(receiver.keys)) == 1, "an idempotent receiver processes it once"


# --- failures: bounded, recorded, visible --------------------------------------


@pytest.mark.django_db
def test_a_webhook_that_always_fails_is_failed_after_max_attempts_and_shown_in_the_admin(
    clock, admin_client, settings
):
    """Pass: MAX_ATTEMPTS sends (each due after its backoff), then status 'failed' with
    the last error; no further attempt; the admin's failed list shows it."""
    settings.CLEARWAY_FEED_ALLOWED_NETWORKS = ["127.0.0.0/8"]  # nothing listens on port 9
    team = builders.team("infra", email_addresses=[], webhook_url="http://127.0.0.1:9/hook")
    [delivery] = ping(team)

    for _ in range(MAX_ATTEMPTS + 2):
        delivery.refresh_from_db()
        clock.move_to(delivery.next_attempt_at)
        deliveries_retry_due()

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("failed", MAX_ATTEMPTS)
    assert "ConnectionError" in delivery.last_error
    assert delivery_send(delivery_id=delivery.pk) is False
    listing = admin_client.get("/admin/scheduling/delivery/", {"status__exact": "failed"})
    assert listing.status_code == 200
    html = listing.content.decode()
    assert "webhook:http://127.0.0.1:9/hook" in html
    assert "ConnectionError" in html


@pytest.mark.django_db
def test_the_retry_sweep_handles_at_most_limit_deliveries_per_run(clock):
    """Pass: 5 due deliveries, limit 3 -> 3 sent this run, the other 2 next run."""
    team = builders.team("infra")
    for n in range(5):
        ping(team, key=f"event:{n}")

    assert deliveries_retry_due(limit=3) == 3
    assert Delivery.objects.filter(status="pending").count() == 2
    assert deliveries_retry_due(limit=3) == 2


@pytest.mark.django_db(transaction=True)
def test_catch_up_is_off_so_a_schedule_missed_for_hours_runs_once(queued):
    """Pass: a every-minute schedule last due 3 hours ago queues one task, not 180,
    and its next run is in the future (django-q2's default catch_up replays each)."""
    assert Conf.CATCH_UP is False
    Schedule.objects.all().delete()
    Schedule.objects.create(
        func="scheduling.tasks.heartbeat",
        schedule_type=Schedule.MINUTES,
        minutes=1,
        repeats=-1,
        next_run=timezone.now() - timedelta(hours=3),
    )

    scheduler()
    scheduler()

    assert [task["func"] for task in queued_tasks()] == ["scheduling.tasks.heartbeat"]
    assert Schedule.objects.get().next_run > timezone.now()


def test_a_failing_task_is_retried_a_bounded_number_of_times_and_never_while_it_runs():
    """Pass: django-q2 gives a task at most 5 attempts, keeps failed ones (ack_failures
    records them in the admin's failed tasks), and hands a task out again only after
    longer than its timeout, so a slow task never runs twice at once."""
    cluster = settings.Q_CLUSTER
    assert (Conf.MAX_ATTEMPTS, Conf.ACK_FAILURES) == (5, True)
    assert cluster["retry"] > cluster["timeout"]

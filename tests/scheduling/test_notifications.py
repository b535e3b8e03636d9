"""Notifications: every event reaches each team's email and webhook once, failures retry."""

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail

from scheduling.models import Delivery, MaintenanceJob
from scheduling.services import notifications
from scheduling.services.notifications import (
    MAX_ATTEMPTS,
    deliveries_retry_due,
    delivery_send,
    notify,
    notify_upcoming_windows,
)
from tests import builders
from tests.builders import at
from tests.personas import START, as_user
from tests.workflow import approved_job, book, pending_job

pytestmark = pytest.mark.django_db(transaction=True)


class WebhookReceiver:
    """A real HTTP endpoint on 127.0.0.1 that records each POST and answers `statuses`.

    `answer("infra", 500, 500)` makes the next two posts to /infra fail.
    """

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.statuses: dict[str, list[int]] = {}  # per path, in order; then 200
        self.delay = 0.0
        self.base_url = ""

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path}"

    def answer(self, path: str, *statuses: int) -> None:
        self.statuses[f"/{path}"] = list(statuses)

    def to(self, path: str) -> list[dict]:
        return [hit for hit in self.received if hit["path"] == f"/{path}"]


@pytest.fixture
def receiver():
    hook = WebhookReceiver()
    answered = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            hook.received.append({"path": self.path, "body": body, "headers": dict(self.headers)})
            if hook.delay:
                answered.wait(hook.delay)
            queued = hook.statuses.get(self.path)
            self.send_response(queued.pop(0) if queued else 200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    hook.base_url = f"http://127.0.0.1:{server.server_port}"
    yield hook
    answered.set()
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def webhooks(org, receiver):
    """Every team posts to its own path on the receiver: /infra, /grading, ..."""
    for team in org.values():
        team.webhook_url = receiver.url(team.slug)
        team.save(update_fields=["webhook_url"])
    return receiver


def mails_to(address: str, containing: str = "") -> list:
    return [m for m in mail.outbox if address in m.to and containing in m.subject]


def webhook_delivery(event: str, team: str) -> Delivery:
    return Delivery.objects.get(event=event, channel__startswith="webhook:", channel__endswith=team)


# --- each event reaches the teams concerned ---------------------------------


def test_a_review_request_reaches_the_reviewing_team_by_email_and_webhook(requester, webhooks):
    job = book(as_user(requester))

    as_user(requester).post(f"/api/v1/jobs/{job['id']}/submit")

    [email] = mails_to("grading@example.org")
    assert "Review requested" in email.subject
    assert "Reindex the grading tables" in email.body
    [hook] = webhooks.to("grading")
    assert hook["body"]["event"] == "review_requested"
    assert "Reindex the grading tables" in hook["body"]["text"]
    assert hook["body"]["job"]["id"] == job["id"]
    assert not mails_to("infra@example.org")


def test_an_approval_reaches_the_requesting_team(requester, reviewer, webhooks):
    job = pending_job(requester=requester)

    as_user(reviewer).post(f"/api/v1/jobs/{job.pk}/approve", {"team": "grading"})

    assert len(mails_to("infra@example.org", "Approved")) == 1
    assert [h["body"]["event"] for h in webhooks.to("infra")] == ["approved"]
    assert webhooks.to("infra")[0]["body"]["job"]["status"] == "approved"


def test_a_rejection_reaches_the_requesting_team_with_the_comment(requester, reviewer, webhooks):
    job = pending_job(requester=requester)

    as_user(reviewer).post(
        f"/api/v1/jobs/{job.pk}/reject", {"team": "grading", "comment": "Marking week."}
    )

    [email] = mails_to("infra@example.org", "Rejected")
    assert "Marking week." in email.body
    [hook] = webhooks.to("infra")
    assert hook["body"]["event"] == "rejected"
    assert "Marking week." in hook["body"]["text"]


def test_a_conflict_reaches_the_team_and_its_reviewers_with_next_clear_windows(
    requester, reviewer, admin, webhooks
):
    job = approved_job(requester=requester, reviewer=reviewer)
    mail.outbox.clear()
    webhooks.received.clear()

    as_user(admin).post(
        "/api/v1/blackouts",
        {
            "title": "Exam week",
            "team": "platform",
            "start": "2030-12-10T00:00:00Z",
            "end": "2030-12-11T00:00:00Z",
        },
        format="json",
    )

    for team in ("infra", "grading"):
        [email] = mails_to(f"{team}@example.org", "no longer approved")
        assert "Exam week" in email.body
        assert "Next clear windows" in email.body
        [hook] = webhooks.to(team)
        assert hook["body"]["event"] == "conflicted"
        assert hook["body"]["job"]["id"] == job.pk
        assert hook["body"]["findings"][0]["title"] == "Exam week"
    assert not webhooks.to("platform")


def test_a_deadline_published_into_an_approved_window_tells_the_team_by_email_and_webhook(
    requester, reviewer, curriculum_staff, webhooks
):
    job = approved_job(requester=requester, reviewer=reviewer)
    mail.outbox.clear()
    webhooks.received.clear()

    as_user(curriculum_staff).post(
        "/api/v1/deadlines",
        {
            "title": "Project 3",
            "team": "curriculum",
            "cohort_size": 2000,
            "due": "2030-12-10T23:00:00Z",
            "systems": ["grading-api"],
        },
        format="json",
    )

    [email] = mails_to("infra@example.org", "no longer approved")
    assert "Project 3" in email.body
    assert "2,000 students" in email.body
    [hook] = webhooks.to("infra")
    assert (hook["body"]["event"], hook["body"]["job"]["id"]) == ("conflicted", job.pk)
    assert hook["body"]["job"]["status"] == "conflicted"
    assert "Project 3" in hook["body"]["text"]


def test_a_job_sent_back_to_review_tells_its_team_what_collided_and_the_next_clear_windows(
    requester, reviewer, org, webhooks
):
    job = approved_job(requester=requester, reviewer=reviewer)
    mail.outbox.clear()

    builders.blackout(
        start=at(10), end=at(11), severity="flag", owner=org["exams"], title="Open day"
    )

    [email] = mails_to("infra@example.org", "Back to review")
    assert "Open day" in email.body
    assert "Next clear windows" in email.body
    for team in ("exams", "grading"):
        [request] = mails_to(f"{team}@example.org", "Review requested")
        assert "Open day" in request.body
    assert [h["body"]["event"] for h in webhooks.to("infra")][-1] == "back_to_review"
    assert MaintenanceJob.objects.get(pk=job.pk).status == "pending"


def test_an_emergency_override_reaches_the_administrators(requester, webhooks, settings):
    builders.deadline(due=at(10, 23), cohort_size=2000, systems=["grading-api"])
    job = book(as_user(requester))

    as_user(requester).post(
        f"/api/v1/jobs/{job['id']}/submit",
        {"emergency": True, "justification": "The disk is 98% full."},
    )

    admin_team = settings.CLEARWAY_ADMIN_TEAM
    [email] = mails_to(f"{admin_team}@example.org", "Emergency override")
    assert "The disk is 98% full." in email.body
    events = sorted(h["body"]["event"] for h in webhooks.to(admin_team))
    assert events == ["emergency_override", "review_requested"]


def test_an_event_reaches_every_address_of_a_team(requester, reviewer, org):
    org["infra"].email_addresses = ["infra@example.org", "oncall@example.org"]
    org["infra"].save()
    job = pending_job(requester=requester)

    as_user(reviewer).post(f"/api/v1/jobs/{job.pk}/approve", {"team": "grading"})

    assert len(mails_to("infra@example.org", "Approved")) == 1
    assert len(mails_to("oncall@example.org", "Approved")) == 1


# --- failures are retried, then marked failed ---------------------------------


def test_a_webhook_answering_500_is_retried_with_backoff(requester, reviewer, webhooks):
    webhooks.answer("infra", 500)
    job = pending_job(requester=requester)

    as_user(reviewer).post(f"/api/v1/jobs/{job.pk}/approve", {"team": "grading"})

    delivery = webhook_delivery("approved", "infra")
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert delivery.last_error.startswith("HTTP 500")
    assert delivery.next_attempt_at == START + timedelta(minutes=1)


def test_the_backoff_grows_with_each_failure(requester, reviewer, webhooks, clock):
    webhooks.answer("infra", 500, 500)
    job = pending_job(requester=requester)
    as_user(reviewer).post(f"/api/v1/jobs/{job.pk}/approve", {"team": "grading"})
    clock.move_to(START + timedelta(minutes=1))

    deliveries_retry_due()

    delivery = webhook_delivery("approved", "infra")
    assert (delivery.status, delivery.attempts) == ("pending", 2)
    assert delivery.next_attempt_at == START + timedelta(minutes=1 + 2)


def test_a_retry_is_not_sent_before_it_is_due(requester, reviewer, webhooks, clock):
    webhooks.answer("infra", 500)
    job = pending_job(requester=requester)
    as_user(reviewer).post(f"/api/v1/jobs/{job.pk}/approve", {"team": "grading"})
    clock.move_to(START + timedelta(seconds=59))

    assert deliveries_retry_due() == 0
    assert webhook_delivery("approved", "infra").attempts == 1


def test_a_webhook_that_recovers_is_delivered_on_retry_with_the_same_key(
    requester, reviewer, webhooks, clock
):
    webhooks.answer("infra", 503)
    job = pending_job(requester=requester)
    as_user(reviewer).post(f"/api/v1/jobs/{job.pk}/approve", {"team": "grading"})
    clock.move_to(START + timedelta(minutes=1))

    assert deliveries_retry_due() == 1

    delivery = webhook_delivery("approved", "infra")
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 2, "")
    keys = {hit["headers"]["Idempotency-Key"] for hit in webhooks.to("infra")}
    assert len(webhooks.to("infra")) == 2
    assert len(keys) == 1


def test_a_webhook_that_keeps_failing_is_marked_failed_after_the_last_attempt(
    requester, reviewer, webhooks, clock
):
    webhooks.answer("infra", *[500] * MAX_ATTEMPTS)
    job = pending_job(requester=requester)
    as_user(reviewer).post(f"/api/v1/jobs/{job.pk}/approve", {"team": "grading"})

    for _ in range(MAX_ATTEMPTS - 1):
        clock.move_to(webhook_delivery("approved", "infra").next_attempt_at)
        deliveries_retry_due()

    delivery = webhook_delivery("approved", "infra")
    assert (delivery.status, delivery.attempts) == ("failed", MAX_ATTEMPTS)
    assert delivery.last_error.startswith("HTTP 500")
    assert len(webhooks.to("infra")) == MAX_ATTEMPTS
    clock.move_to(at(2))
    assert deliveries_retry_due() == 0
    assert len(webhooks.to("infra")) == MAX_ATTEMPTS


def test_an_unreachable_webhook_is_retried(requester, reviewer, org):
    org["infra"].webhook_url = "http://127.0.0.1:9/infra"  # discard port: nothing listens
    org["infra"].save()
    job = pending_job(requester=requester)

    as_user(reviewer).post(f"/api/v1/jobs/{job.pk}/approve", {"team": "grading"})

    delivery = webhook_delivery("approved", "infra")
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert "ConnectionError" in delivery.last_error


def test_a_webhook_that_times_out_is_retried(requester, reviewer, webhooks, monkeypatch):
    monkeypatch.setattr(notifications, "WEBHOOK_TIMEOUT", (1, 0.2))
    webhooks.delay = 2
    job = pending_job(requester=requester)

    as_user(reviewer).post(f"/api/v1/jobs/{job.pk}/approve", {"team": "grading"})

    delivery = webhook_delivery("approved", "infra")
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert "Timeout" in delivery.last_error


def test_a_failing_webhook_does_not_hold_back_the_email(requester, reviewer, webhooks):
    webhooks.answer("infra", 500)
    job = pending_job(requester=requester)

    as_user(reviewer).post(f"/api/v1/jobs/{job.pk}/approve", {"team": "grading"})

    email = Delivery.objects.get(event="approved", channel="email:infra@example.org")
    assert email.status == "sent"
    assert len(mails_to("infra@example.org", "Approved")) == 1


# --- once per event -----------------------------------------------------------


def test_sending_a_delivery_twice_delivers_it_once(requester, reviewer, webhooks):
    job = pending_job(requester=requester)
    as_user(reviewer).post(f"/api/v1/jobs/{job.pk}/approve", {"team": "grading"})
    assert webhook_delivery("approved", "infra").status == "sent"
    emails = len(mail.outbox)

    again = [delivery_send(delivery_id=d.pk) for d in Delivery.objects.filter(event="approved")]

    assert again == [False, False]
    assert len(mail.outbox) == emails
    assert len(webhooks.to("infra")) == 1


def test_the_same_event_notified_twice_is_recorded_once(org):
    first = notify(
        key="job:1:test", event="approved", teams=[org["infra"]], subject="s", text="t", data={}
    )
    second = notify(
        key="job:1:test", event="approved", teams=[org["infra"]], subject="s", text="t", data={}
    )

    assert (len(first), second) == (1, [])
    assert Delivery.objects.filter(key="job:1:test").count() == 1
    assert len(mail.outbox) == 1


# --- the 24-hour reminder -----------------------------------------------------


def test_the_24_hour_reminder_is_sent_once_even_if_run_twice(requester, reviewer, clock):
    approved_job(requester=requester, reviewer=reviewer)
    clock.move_to(at(9, 8, 30))

    first, second = notify_upcoming_windows(), notify_upcoming_windows()

    assert (first, second) == (1, 0)
    [email] = mails_to("infra@example.org", "starts within 24 hours")
    assert "2030-12-10 08:00" in email.body


def test_no_reminder_for_a_window_more_than_24_hours_away(requester, reviewer, clock):
    approved_job(requester=requester, reviewer=reviewer)
    clock.move_to(at(9, 7, 59))

    assert notify_upcoming_windows() == 0
    assert not mails_to("infra@example.org", "starts within 24 hours")


def test_a_recurring_job_gets_one_reminder_per_occurrence(requester, reviewer, clock):
    approved_job(requester=requester, reviewer=reviewer, rrule="FREQ=DAILY;COUNT=3")

    for moment in (at(9, 9), at(9, 21), at(10, 9), at(10, 21)):
        clock.move_to(moment)
        notify_upcoming_windows()

    reminders = mails_to("infra@example.org", "starts within 24 hours")
    assert sorted(m.body.split("starts at ")[1][:16] for m in reminders) == [
        "2030-12-10 08:00",
        "2030-12-11 08:00",
    ]


def test_no_reminder_for_a_job_that_is_not_approved(requester, clock):
    pending_job(requester=requester)
    clock.move_to(at(9, 9))

    assert notify_upcoming_windows() == 0

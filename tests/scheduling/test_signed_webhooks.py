"""Team webhooks are signed per Standard Webhooks, in the team's format, and guarded."""

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from scheduling.models import Delivery, Team
from scheduling.services.notifications import deliveries_retry_due, notify
from scheduling.services.webhooks import webhook_body
from tests.personas import as_user

pytestmark = pytest.mark.django_db


class Receiver:
    """An endpoint on 127.0.0.1 that keeps each POST's raw body and headers."""

    def __init__(self) -> None:
        self.received: list[tuple[bytes, dict[str, str]]] = []
        self.statuses: list[int] = []
        self.url = ""


@pytest.fixture
def receiver():
    hook = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            hook.received.append((body, dict(self.headers)))
            self.send_response(hook.statuses.pop(0) if hook.statuses else 204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    hook.url = f"http://127.0.0.1:{server.server_port}/hook"
    yield hook
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def infra(org, receiver) -> Team:
    team = org["infra"]
    team.webhook_url = receiver.url
    team.email_addresses = []
    team.save()
    return team


def rotate(person, team: Team) -> str:
    answer = as_user(person).post(f"/api/v1/teams/{team.slug}/webhook-secret")
    assert answer.status_code == 201, answer.content
    return answer.json()["secret"]


def send(team: Team, django_capture_on_commit_callbacks, key: str = "ping:1") -> None:
    with django_capture_on_commit_callbacks(execute=True):
        notify(
            key=key,
            event="test",
            teams=[team],
            subject="[Clearway] Reindex <grading> & co",
            text="Job #1 'Reindex' was approved.",
            data={"job": {"id": 1, "url": "http://clearway.test/jobs/1/"}},
        )


def test_a_webhook_verifies_with_the_reference_library_and_the_teams_secret(
    requester, infra, receiver, django_capture_on_commit_callbacks
):
    secret = rotate(requester, infra)

    send(infra, django_capture_on_commit_callbacks)

    [(body, headers)] = receiver.received
    payload = Webhook(secret).verify(body, headers)
    assert payload["event"] == "test"
    assert headers["webhook-id"]


def test_a_rotated_secret_no_longer_verifies(
    requester, infra, receiver, django_capture_on_commit_callbacks
):
    old = rotate(requester, infra)
    new = rotate(requester, infra)

    send(infra, django_capture_on_commit_callbacks)

    [(body, headers)] = receiver.received
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(body, headers)
    Webhook(new).verify(body, headers)


def test_a_retry_carries_the_same_webhook_id(
    clock, requester, infra, receiver, django_capture_on_commit_callbacks
):
    secret = rotate(requester, infra)
    receiver.statuses = [500]
    send(infra, django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get()

    clock.move_to(delivery.next_attempt_at)
    deliveries_retry_due()

    first, second = receiver.received
    assert first[1]["webhook-id"] == second[1]["webhook-id"]
    assert int(second[1]["webhook-timestamp"]) > int(first[1]["webhook-timestamp"])
    Webhook(secret).verify(*second)


def test_the_secret_is_shown_once_and_not_stored_in_clear(requester, infra):
    secret = rotate(requester, infra)

    team = as_user(requester).get(f"/api/v1/teams/{infra.slug}").json()

    assert secret.startswith("whsec_")
    assert secret not in str(team)
    assert team["webhook_secret_created"]
    infra.refresh_from_db()
    assert secret not in infra.webhook_secret_sealed
    assert secret[len("whsec_") :] not in infra.webhook_secret_sealed


def test_only_members_and_administrators_rotate_a_teams_secret(outsider, admin, infra):
    refused = as_user(outsider).post(f"/api/v1/teams/{infra.slug}/webhook-secret")

    assert refused.status_code == 403
    assert refused.json()["code"] == "forbidden"
    assert as_user(admin).post(f"/api/v1/teams/{infra.slug}/webhook-secret").status_code == 201


def test_the_admin_action_shows_the_new_secret_once(infra, admin_client):
    page = admin_client.post(
        "/admin/scheduling/team/",
        {"action": "rotate_webhook_secret", "_selected_action": [infra.pk]},
    )

    assert page.status_code == 200
    secret = page.content.decode().split("<code>whsec_")[1].split("</code>")[0]
    infra.refresh_from_db()
    assert infra.webhook_secret_created is not None
    assert secret not in infra.webhook_secret_sealed


def test_a_slack_channel_gets_an_incoming_webhook_message(
    requester, infra, receiver, django_capture_on_commit_callbacks
):
    infra.webhook_format = "slack"
    infra.save()
    secret = rotate(requester, infra)

    send(infra, django_capture_on_commit_callbacks)

    [(body, headers)] = receiver.received
    message = Webhook(secret).verify(body, headers)
    assert message["text"].startswith("[Clearway]")
    [block] = message["blocks"]
    assert block["text"]["type"] == "mrkdwn"
    assert "&lt;grading&gt; &amp; co" in block["text"]["text"]
    assert "<http://clearway.test/jobs/1/|Open in Clearway>" in block["text"]["text"]


def test_a_slack_message_escapes_markup_in_its_notification_text_too():
    delivery = Delivery(subject="[Clearway] <!channel> & <https://evil.example|x>", text="t")

    message = webhook_body(delivery=delivery, format="slack")

    assert message["text"] == "[Clearway] &lt;!channel&gt; &amp; &lt;https://evil.example|x&gt;"


def test_a_teams_card_shows_markdown_in_titles_as_plain_text():
    delivery = Delivery(
        subject="[Clearway] **Urgent** [click](https://evil.example) _x_",
        text="- not a list\n1. nor this\nJob `a\\b` ~",
    )

    card = webhook_body(delivery=delivery, format="teams")["attachments"][0]["content"]

    subject, text = (block["text"] for block in card["body"])
    assert subject == (r"\[Clearway\] \*\*Urgent\*\* \[click\]\(https://evil.example\) \_x\_")
    assert text == "\\- not a list\n1\\. nor this\nJob \\`a\\\\b\\` \\~"


def test_a_teams_channel_gets_an_adaptive_card(
    requester, infra, receiver, django_capture_on_commit_callbacks
):
    infra.webhook_format = "teams"
    infra.save()
    secret = rotate(requester, infra)

    send(infra, django_capture_on_commit_callbacks)

    [(body, headers)] = receiver.received
    message = Webhook(secret).verify(body, headers)
    [attachment] = message["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard"
    assert card["body"][0]["text"] == r"\[Clearway\] Reindex <grading> & co"
    assert card["actions"][0]["url"] == "http://clearway.test/jobs/1/"


def test_the_format_is_set_through_the_teams_api(admin, infra):
    answer = as_user(admin).patch(f"/api/v1/teams/{infra.slug}", {"webhook_format": "teams"})

    assert answer.status_code == 200, answer.content
    infra.refresh_from_db()
    assert infra.webhook_format == "teams"


def test_a_private_target_is_refused_before_connecting(
    infra, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.CLEARWAY_FEED_ALLOWED_NETWORKS = []
    infra.webhook_url = "http://10.0.0.5/hook"
    infra.save()
    connections = []
    monkeypatch.setattr(requests.Session, "send", lambda *args, **kwargs: connections.append(args))

    send(infra, django_capture_on_commit_callbacks)

    delivery = Delivery.objects.get()
    assert connections == []
    assert delivery.status == "failed"
    assert "10.0.0.5" in delivery.last_error
    assert "private" in delivery.last_error


def test_loopback_is_refused_without_an_allowlist(
    infra, settings, django_capture_on_commit_callbacks, receiver
):
    settings.CLEARWAY_FEED_ALLOWED_NETWORKS = []

    send(infra, django_capture_on_commit_callbacks)

    assert receiver.received == []
    assert Delivery.objects.get().status == "failed"


def test_a_secret_sealed_under_another_secret_key_fails_visibly_instead_of_unsigned(
    requester, infra, receiver, settings, django_capture_on_commit_callbacks
):
    rotate(requester, infra)
    settings.SECRET_KEY = "a-new-key-without-the-old-one-as-fallback"

    send(infra, django_capture_on_commit_callbacks)

    assert receiver.received == []
    assert "rotate the secret" in Delivery.objects.get().last_error


def test_a_secret_survives_a_secret_key_rotation_with_fallbacks(
    requester, infra, receiver, settings, django_capture_on_commit_callbacks
):
    secret = rotate(requester, infra)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-key"

    send(infra, django_capture_on_commit_callbacks)

    Webhook(secret).verify(*receiver.received[0])


def test_the_team_page_shows_a_new_secret_once_to_a_member(requester, infra, client):
    client.force_login(requester)

    created = client.post(f"/teams/{infra.slug}/webhook/")
    later = client.get(f"/teams/{infra.slug}/webhook/")

    secret = created.content.decode().split('value="whsec_')[1].split('"')[0]
    assert created.status_code == 200
    assert "whsec_" not in later.content.decode()
    assert "created" in later.content.decode()
    infra.refresh_from_db()
    assert secret not in infra.webhook_secret_sealed


def test_the_team_page_is_not_found_for_another_team(reviewer, infra, client):
    client.force_login(reviewer)
    before = infra.webhook_secret_sealed

    assert client.post(f"/teams/{infra.slug}/webhook/").status_code == 404
    infra.refresh_from_db()
    assert infra.webhook_secret_sealed == before


def test_a_new_team_gets_its_own_secret_shown_once_in_the_answer(
    admin, receiver, django_capture_on_commit_callbacks
):
    created = as_user(admin).post(
        "/api/v1/teams",
        {"slug": "exams-it", "name": "Exams IT", "webhook_url": receiver.url},
        format="json",
    )
    team = Team.objects.get(slug="exams-it")

    send(team, django_capture_on_commit_callbacks)

    assert created.status_code == 201, created.content
    secret = created.json()["webhook_secret"]
    Webhook(secret).verify(*receiver.received[0])
    assert "webhook_secret" not in as_user(admin).get("/api/v1/teams/exams-it").json()


def test_two_teams_have_different_secrets(org):
    assert org["infra"].webhook_secret_sealed
    assert org["infra"].new_webhook_secret != org["grading"].new_webhook_secret


SLACK_URL = "https://hooks.slack.com/services/T000/B000/keep-this-secret"


@pytest.mark.parametrize("path", ["/api/v1/teams/infra", "/api/v1/teams"])
def test_another_teams_webhook_url_is_not_shown_in_the_api(org, outsider, path):
    Team.objects.filter(slug="infra").update(webhook_url=SLACK_URL)

    answer = as_user(outsider).get(path)

    assert answer.status_code == 200
    assert "keep-this-secret" not in answer.content.decode()
    assert "https://hooks.slack.com/" in answer.content.decode()


def test_a_member_sees_the_teams_webhook_url(org, requester):
    Team.objects.filter(slug="infra").update(webhook_url=SLACK_URL)

    answer = as_user(requester).get("/api/v1/teams/infra")

    assert answer.json()["webhook_url"] == SLACK_URL


def test_a_failed_webhook_keeps_its_url_path_out_of_the_error_and_the_log(
    infra, django_capture_on_commit_callbacks, caplog
):
    # A port nothing listens on: the connection is refused.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    infra.webhook_url = f"http://127.0.0.1:{port}/services/T000/B000/keep-this-secret"
    infra.save()

    send(infra, django_capture_on_commit_callbacks)

    delivery = Delivery.objects.get()
    assert delivery.last_error.startswith("ConnectionError")
    assert "keep-this-secret" not in delivery.last_error
    assert "keep-this-secret" not in caplog.text


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data",
        "https://10.0.0.5/hook",
        "http://[::ffff:10.1.2.3]/",
    ],
)
def test_a_webhook_url_naming_a_private_address_is_refused_when_saved(admin, infra, url):
    answer = as_user(admin).patch(f"/api/v1/teams/{infra.slug}", {"webhook_url": url})

    assert answer.status_code == 400
    assert "webhook_url" in answer.json()["errors"]
    infra.refresh_from_db()
    assert infra.webhook_url != url


def test_a_new_team_with_a_private_webhook_url_is_refused(admin):
    answer = as_user(admin).post(
        "/api/v1/teams", {"slug": "x", "name": "X", "webhook_url": "http://192.168.1.1/"}
    )

    assert answer.status_code == 400
    assert not Team.objects.filter(slug="x").exists()


def test_the_admin_refuses_a_private_webhook_url(infra, admin_client):
    page = admin_client.post(
        f"/admin/scheduling/team/{infra.pk}/change/",
        {
            "name": infra.name,
            "slug": infra.slug,
            "webhook_url": "http://169.254.169.254/",
            "webhook_format": "clearway",
        },
    )

    assert page.status_code == 200  # the form again, with the error
    assert "private, loopback" in page.content.decode()
    infra.refresh_from_db()
    assert infra.webhook_url != "http://169.254.169.254/"

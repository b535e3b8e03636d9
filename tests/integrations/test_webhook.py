"""POST /integrations/github/webhook: signed by GitHub, verified before anything is read."""

import pytest

from integrations.models import DeploymentReview, GitHubDelivery
from scheduling.models import Delivery
from tests.builders import at
from tests.integrations.conftest import protection_rule, send_webhook, signature_of
from tests.workflow import approved_job

pytestmark = pytest.mark.django_db


@pytest.fixture
def job_in_window(requester, reviewer, clock):
    job = approved_job(requester=requester, reviewer=reviewer)
    clock.move_to(at(10, 9))
    return job


def test_a_bad_signature_is_a_401_and_nothing_is_stored(client, github, requester, reviewer):
    job = approved_job(requester=requester, reviewer=reviewer)

    answer = send_webhook(client, protection_rule(github, job=job), secret="not the secret")

    assert answer.status_code == 401
    assert answer.json()["code"] == "bad_signature"
    assert not GitHubDelivery.objects.exists()
    assert not DeploymentReview.objects.exists()
    assert github.callbacks == []


def test_a_missing_signature_is_a_401(client, github):
    answer = send_webhook(client, {"zen": "Keep it simple."}, event="ping", signature="")

    assert answer.status_code == 401
    assert not GitHubDelivery.objects.exists()


def test_a_signature_of_another_body_is_a_401(client, github):
    answer = send_webhook(client, {"zen": "x"}, event="ping", signature=signature_of(b"{}"))

    assert answer.status_code == 401


def test_without_a_webhook_secret_the_endpoint_is_a_404(client, github, settings):
    settings.CLEARWAY_GITHUB_WEBHOOK_SECRET = ""

    answer = send_webhook(client, {"zen": "x"}, event="ping", secret="")

    assert answer.status_code == 404
    assert not GitHubDelivery.objects.exists()


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_without_a_webhook_secret_no_method_reveals_the_endpoint(client, settings, method):
    settings.CLEARWAY_GITHUB_WEBHOOK_SECRET = ""

    answer = getattr(client, method)("/integrations/github/webhook")

    assert answer.status_code == 404
    assert answer.json()["code"] == "not_found"


def test_a_ping_is_answered(receive, github):
    answer = receive({"zen": "Design for failure.", "hook_id": 1}, event="ping")

    assert answer.status_code == 200
    assert answer.json()["status"] == "pong"


def test_an_installation_event_is_answered(receive, github):
    payload = {"action": "created", "installation": {"id": 555, "account": {"login": "uni"}}}

    answer = receive(payload, event="installation")

    assert answer.status_code == 200
    assert GitHubDelivery.objects.get().installation_id == 555


def test_a_replayed_delivery_changes_nothing(receive, github, requester, reviewer, clock):
    job = approved_job(requester=requester, reviewer=reviewer)
    clock.move_to(at(10, 9))
    payload = protection_rule(github, job=job)
    receive(payload, delivery="same-delivery")
    events = job.history.count()

    again = receive(payload, delivery="same-delivery")

    assert again.status_code == 200
    assert again.json()["status"] == "duplicate"
    assert DeploymentReview.objects.count() == 1
    assert Delivery.objects.filter(channel__startswith="github:").count() == 1
    assert len(github.reviews()) == 1
    assert job.history.count() == events


def test_a_deployment_replayed_under_a_new_delivery_id_changes_nothing(
    receive, github, job_in_window
):
    # X-GitHub-Delivery is not covered by the signature: anyone holding one
    # signed body can resend it under a fresh id.
    payload = protection_rule(github, job=job_in_window)
    receive(payload, delivery="first")
    events = job_in_window.history.count()

    again = receive(payload, delivery="second")

    assert again.status_code == 200
    assert again.json()["status"] == "duplicate"
    assert DeploymentReview.objects.count() == 1
    assert GitHubDelivery.objects.count() == 1
    assert len(github.reviews()) == 1
    assert job_in_window.history.count() == events


def test_a_replay_racing_past_the_check_is_stopped_by_the_database(
    receive, github, job_in_window, monkeypatch
):
    payload = protection_rule(github, job=job_in_window)
    receive(payload, delivery="first")
    # Both requests checked before either stored its review.
    monkeypatch.setattr("integrations.selectors.deployment_reviewed", lambda **kwargs: False)

    again = receive(payload, delivery="second")

    assert again.json()["status"] == "duplicate"
    assert GitHubDelivery.objects.count() == 1
    assert len(github.reviews()) == 1


def test_a_body_that_is_not_json_is_a_400(github, client):
    answer = client.post(
        "/integrations/github/webhook",
        data=b"not json",
        content_type="application/json",
        headers={
            "X-GitHub-Event": "ping",
            "X-GitHub-Delivery": "x",
            "X-Hub-Signature-256": signature_of(b"not json"),
        },
    )

    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid"


@pytest.mark.parametrize(
    "callback",
    [
        "https://attacker.example/repos/uni/grading/actions/runs/7/deployment_protection_rule",
        "{api}.attacker.example/repos/uni/grading/actions/runs/7/deployment_protection_rule",
        "{api}/repos/uni/grading/actions/runs/7/../../../../app/installations",
        "{api}/app/installations/555/access_tokens",
        "{api}/repos/../../actions/runs/7/deployment_protection_rule",
        "{api}/repos/uni/../actions/runs/7/deployment_protection_rule",
    ],
)
def test_a_callback_url_other_than_githubs_review_endpoint_is_refused(
    receive, github, requester, reviewer, callback
):
    job = approved_job(requester=requester, reviewer=reviewer)
    payload = protection_rule(github, job=job)
    payload["deployment_callback_url"] = callback.format(api=github.base_url)

    answer = receive(payload)

    assert answer.status_code == 400
    assert "deployment_callback_url" in answer.json()["errors"]
    assert not GitHubDelivery.objects.exists()
    assert github.token_requests == []


def test_a_missing_delivery_id_is_a_400(receive, github):
    answer = receive({"zen": "x"}, event="ping", delivery="")

    assert answer.status_code == 400
    assert not GitHubDelivery.objects.exists()


def test_an_uninstalled_app_forgets_its_installation_token(receive, github, job_in_window):
    receive(protection_rule(github, job=job_in_window, run_id=1))

    receive({"action": "deleted", "installation": {"id": 555}}, event="installation")
    receive(protection_rule(github, job=job_in_window, run_id=2))

    assert len(github.token_requests) == 2


@pytest.mark.parametrize(
    "payload",
    [
        {"action": "requested", "repository": "uni/grading", "installation": {"id": 555}},
        {"action": "requested", "repository": {"full_name": "uni/grading"}, "installation": "555"},
    ],
)
def test_a_signed_event_with_objects_of_the_wrong_shape_is_a_400(receive, github, payload):
    answer = receive(payload)

    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid"
    assert not GitHubDelivery.objects.exists()


def test_an_installation_event_whose_installation_is_not_an_object_is_noted(receive, github):
    answer = receive({"action": "created", "installation": [555]}, event="installation")

    assert answer.status_code == 200
    assert GitHubDelivery.objects.get().installation_id is None


def _post_signed(client, body: bytes):
    return client.post(
        "/integrations/github/webhook",
        data=body,
        content_type="application/json",
        headers={
            "X-GitHub-Event": "ping",
            "X-GitHub-Delivery": "x",
            "X-Hub-Signature-256": signature_of(body),
        },
    )


def test_a_signed_body_nested_too_deeply_to_parse_is_a_400(github, client):
    answer = _post_signed(client, b"[" * 100_000 + b"]" * 100_000)

    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid"
    assert not GitHubDelivery.objects.exists()


def test_a_body_over_the_size_limit_is_a_413_in_the_error_shape(github, client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    answer = _post_signed(client, b'{"zen": "' + b"x" * 2000 + b'"}')

    assert answer.status_code == 413
    assert answer.json()["code"] == "too_large"
    assert not GitHubDelivery.objects.exists()


def test_an_installation_id_beyond_64_bits_is_a_400(receive, github, job_in_window):
    payload = protection_rule(github, job=job_in_window)
    payload["installation"]["id"] = 2**64

    answer = receive(payload)

    assert answer.status_code == 400
    assert "installation" in answer.json()["errors"]
    assert not GitHubDelivery.objects.exists()

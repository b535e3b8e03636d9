import hashlib
import hmac
import itertools
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.integrations.fake_github import FakeGitHub, serve
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

APP_ID = "4242"
WEBHOOK_SECRET = "it's a secret to everybody"
REPOSITORY = "uni/grading"
_deliveries = itertools.count(1)


@pytest.fixture(scope="session")
def app_key() -> tuple[str, str]:
    """The App's RSA key pair (private, public) in PEM, made once per run."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


@pytest.fixture
def github(settings, tmp_path, app_key):
    """The fake GitHub API on 127.0.0.1, and Clearway configured as its App."""
    private, public = app_key
    fake = FakeGitHub(app_id=APP_ID, public_key=public)
    server, thread = serve(fake)
    key_file = tmp_path / "app.pem"
    key_file.write_text(private)
    settings.CLEARWAY_GITHUB_APP_ID = APP_ID
    settings.CLEARWAY_GITHUB_PRIVATE_KEY = ""
    settings.CLEARWAY_GITHUB_PRIVATE_KEY_FILE = str(key_file)
    settings.CLEARWAY_GITHUB_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.CLEARWAY_GITHUB_API_URL = fake.base_url
    settings.SITE_URL = "https://clearway.example.org"
    yield fake
    server.shutdown()
    server.server_close()
    thread.join(5)


def protection_rule(
    github: FakeGitHub,
    *,
    job: Any = None,
    environment: str = "production",
    repository: str = REPOSITORY,
    run_id: int = 77,
    deployment_payload: Any = None,
) -> dict[str, Any]:
    """A deployment_protection_rule `requested` event as GitHub sends it."""
    if deployment_payload is None:
        deployment_payload = {"clearway_job": job.pk} if job is not None else {}
    return {
        "action": "requested",
        "environment": environment,
        "event": "push",
        "deployment_callback_url": (
            f"{github.base_url}/repos/{repository}/actions/runs/{run_id}/deployment_protection_rule"
        ),
        "deployment": {
            # One deployment per run here: GitHub asks once per deployment.
            "id": 1000 + run_id,
            "environment": environment,
            "payload": deployment_payload,
            "ref": "main",
            "sha": "a" * 40,
        },
        "repository": {"id": 99, "full_name": repository, "name": repository.split("/")[1]},
        "installation": {"id": 555, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uNTU1"},
        "sender": {"login": "octocat"},
    }


def signature_of(body: bytes, secret: str = WEBHOOK_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def send_webhook(
    client,
    payload: dict[str, Any],
    *,
    event: str = "deployment_protection_rule",
    delivery: str | None = None,
    secret: str = WEBHOOK_SECRET,
    signature: str | None = None,
):
    body = json.dumps(payload).encode()
    if signature is None:
        signature = signature_of(body, secret)
    return client.post(
        "/integrations/github/webhook",
        data=body,
        content_type="application/json",
        headers={
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": f"d-{next(_deliveries)}" if delivery is None else delivery,
            "X-Hub-Signature-256": signature,
        },
    )


@pytest.fixture
def receive(client, django_capture_on_commit_callbacks):
    """POST a signed webhook and run what it queued (the answer to GitHub)."""

    def post(payload: dict[str, Any], **kwargs: Any):
        with django_capture_on_commit_callbacks(execute=True):
            return send_webhook(client, payload, **kwargs)

    return post


@pytest.fixture
def sweep(django_capture_on_commit_callbacks):
    """Run the every-minute sweep of waiting reviews and send what it answered."""
    from integrations.services import deployment_reviews_process_due

    def run() -> int:
        with django_capture_on_commit_callbacks(execute=True):
            return deployment_reviews_process_due()

    return run

"""Answering GitHub: installation tokens, retries with backoff, and the private key kept quiet."""

import itertools
import logging
from datetime import timedelta

import pytest

from integrations.github.client import GitHubError, app_jwt
from scheduling.models import Delivery
from scheduling.services.notifications import MAX_ATTEMPTS, deliveries_retry_due
from tests.builders import at
from tests.integrations.conftest import protection_rule
from tests.workflow import approved_job

pytestmark = pytest.mark.django_db


@pytest.fixture
def job(requester, reviewer, clock):
    job = approved_job(requester=requester, reviewer=reviewer)
    clock.move_to(at(10, 9))
    return job


def github_answer() -> Delivery:
    return Delivery.objects.get(channel__startswith="github:")


def retry_until_settled(clock, django_capture_on_commit_callbacks) -> None:
    for _ in range(MAX_ATTEMPTS + 2):
        delivery = github_answer()
        if delivery.status != "pending":
            return
        clock.move_to(delivery.next_attempt_at)
        with django_capture_on_commit_callbacks(execute=True):
            deliveries_retry_due()


def test_github_answering_5xx_is_retried_with_backoff_then_failed(
    receive, github, job, clock, admin_client, django_capture_on_commit_callbacks
):
    github.fail_callbacks(*[502] * (MAX_ATTEMPTS + 2))

    receive(protection_rule(github, job=job))
    retry_until_settled(clock, django_capture_on_commit_callbacks)

    delivery = github_answer()
    assert (delivery.status, delivery.attempts) == ("failed", MAX_ATTEMPTS)
    assert "HTTP 502" in delivery.last_error
    assert len(github.callbacks) == MAX_ATTEMPTS
    times = [c["at"] for c in github.callbacks]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert gaps == [timedelta(minutes=m) for m in (1, 2, 4, 8, 16)]
    listing = admin_client.get("/admin/scheduling/delivery/", {"status__exact": "failed"})
    assert delivery.channel in listing.content.decode()
    reviews = admin_client.get("/admin/integrations/deploymentreview/").content.decode()
    assert (
        f"github_approved: failed after {MAX_ATTEMPTS} attempt(s); GitHub answered HTTP 502"
        in reviews
    )


def test_an_answer_gets_through_once_github_recovers(
    receive, github, job, clock, django_capture_on_commit_callbacks
):
    github.fail_callbacks(500, 503)

    receive(protection_rule(github, job=job))
    retry_until_settled(clock, django_capture_on_commit_callbacks)

    assert github_answer().status == "sent"
    assert [c["status"] for c in github.callbacks] == [500, 503, 204]
    assert github.reviews()[0]["state"] == "approved"


def test_the_installation_token_is_reused_until_shortly_before_it_expires(
    receive, github, job, clock
):
    receive(protection_rule(github, job=job, run_id=1))
    clock.move_to(at(10, 9, 50))
    receive(protection_rule(github, job=job, run_id=2))
    clock.move_to(at(10, 9, 56))
    receive(protection_rule(github, job=job, run_id=3))

    assert len(github.token_requests) == 2
    assert [c["status"] for c in github.callbacks] == [204, 204, 204]


def test_the_private_key_may_be_given_as_text(receive, github, job, settings, app_key):
    settings.CLEARWAY_GITHUB_PRIVATE_KEY_FILE = ""
    settings.CLEARWAY_GITHUB_PRIVATE_KEY = app_key[0]

    receive(protection_rule(github, job=job))

    assert github.reviews()[0]["state"] == "approved"


def test_a_missing_key_file_fails_the_answer_visibly(receive, github, job, settings, tmp_path):
    settings.CLEARWAY_GITHUB_PRIVATE_KEY_FILE = str(tmp_path / "missing.pem")

    receive(protection_rule(github, job=job))

    delivery = github_answer()
    assert delivery.status == "pending"
    assert "cannot be read" in delivery.last_error
    assert github.callbacks == []


def test_the_private_key_is_never_logged_or_stored(receive, github, job, settings, app_key, caplog):
    caplog.set_level(logging.DEBUG)
    github.fail_callbacks(500)

    receive(protection_rule(github, job=job))

    body = app_key[0].splitlines()[1]
    assert body not in caplog.text
    assert body not in github_answer().last_error


def test_a_broken_key_is_reported_without_its_text(github, settings):
    settings.CLEARWAY_GITHUB_PRIVATE_KEY_FILE = ""
    settings.CLEARWAY_GITHUB_PRIVATE_KEY = "-----BEGIN RSA PRIVATE KEY-----\nc2VjcmV0\n-----END"

    with pytest.raises(GitHubError) as raised:
        app_jwt()

    assert "c2VjcmV0" not in str(raised.value)
    assert raised.value.__cause__ is None


def test_a_webhook_secret_without_an_app_id_is_flagged_by_the_checks(settings):
    from django.core.checks import run_checks

    settings.CLEARWAY_GITHUB_WEBHOOK_SECRET = "s"
    settings.CLEARWAY_GITHUB_APP_ID = ""

    ids = [message.id for message in run_checks()]

    assert "integrations.W001" in ids

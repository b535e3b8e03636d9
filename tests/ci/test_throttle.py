"""Throttling on the CI endpoints: per token, 429 with Retry-After past the rate."""

from datetime import timedelta

import pytest
from rest_framework.test import APIClient

from scheduling.api.throttles import TokenRateThrottle
from tests.builders import at
from tests.ci.clients import bearer, token_for

pytestmark = pytest.mark.django_db

STATE = "/api/v1/state?systems=grading-db"


@pytest.fixture(autouse=True)
def three_a_minute(settings, monkeypatch):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"ci": "3/min"},
    }
    # DRF reads the rates into the class when it is imported.
    monkeypatch.setattr(TokenRateThrottle, "THROTTLE_RATES", {"ci": "3/min"})


def test_the_fourth_request_in_a_minute_is_a_429_with_retry_after(ci, clock):
    answers = [ci.get(STATE) for _ in range(4)]

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[-1].json()["code"] == "throttled"
    assert 0 < int(answers[-1]["Retry-After"]) <= 60


def test_the_count_is_per_token(org, clock):
    first = bearer(token_for(org["infra"], name="deploys"))
    second = bearer(token_for(org["infra"], name="nightly"))
    for _ in range(3):
        first.get(STATE)

    assert first.get(STATE).status_code == 429
    assert second.get(STATE).status_code == 200


def test_every_ci_endpoint_counts(ci, requester, reviewer, clock):
    ci.get(STATE)
    ci.get("/api/v1/slots?systems=grading-db&duration=PT1H")
    ci.post(
        "/api/v1/checks",
        {"systems": ["grading-db"], "start": "2030-12-20T08:00Z", "end": "2030-12-20T09:00Z"},
        format="json",
    )

    assert ci.get("/api/v1/jobs/1/gate").status_code == 429


def test_the_token_may_ask_again_a_minute_later(ci, clock):
    for _ in range(4):
        ci.get(STATE)

    clock.move_to(at(1, 9) + timedelta(seconds=61))

    assert ci.get(STATE).status_code == 200


def test_a_signed_in_person_is_counted_on_their_own(ci, requester, clock):
    browser = APIClient()
    browser.force_authenticate(requester)
    for _ in range(4):
        ci.get(STATE)

    assert [browser.get(STATE).status_code for _ in range(4)] == [200, 200, 200, 429]


def test_requests_late_in_a_minute_still_count_early_in_the_next(ci, clock):
    clock.move_to(at(1, 9) + timedelta(seconds=59))
    for _ in range(3):
        ci.get(STATE)

    clock.move_to(at(1, 9) + timedelta(seconds=61))

    assert ci.get(STATE).status_code == 429


def test_retry_after_is_when_the_token_may_ask_again(ci, clock):
    ci.get(STATE)
    clock.move_to(at(1, 9) + timedelta(seconds=20))
    ci.get(STATE)
    ci.get(STATE)
    refused = ci.get(STATE)
    wait = int(refused["Retry-After"])
    assert wait == 40

    clock.move_to(at(1, 9) + timedelta(seconds=20 + wait - 1))
    assert ci.get(STATE).status_code == 429
    clock.move_to(at(1, 9) + timedelta(seconds=20 + wait))
    assert ci.get(STATE).status_code == 200


def test_a_long_quiet_spell_forgets_every_request(ci, clock):
    for _ in range(4):
        ci.get(STATE)

    clock.move_to(at(1, 9) + timedelta(minutes=2))

    assert [ci.get(STATE).status_code for _ in range(4)] == [200, 200, 200, 429]

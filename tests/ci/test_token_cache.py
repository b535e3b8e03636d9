"""The per-process token cache: cheap repeats, and every refusal still arrives in time.

The clock starts at 2030-12-01 09:00 UTC (tests.personas.clock); the cache keeps
a token for CLEARWAY_TOKEN_CACHE_SECONDS (5 by default).
"""

from datetime import timedelta

import pytest

from scheduling import token_cache
from scheduling.models import ApiToken, System, Team
from scheduling.services.tokens import api_token_authenticate
from tests.builders import at
from tests.ci.clients import bearer, token_for

pytestmark = pytest.mark.django_db

STATE = "/api/v1/state?systems=grading-db"
WINDOW = timedelta(seconds=5)


@pytest.fixture(autouse=True)
def empty_cache():
    token_cache.clear()
    yield
    token_cache.clear()


def test_a_repeated_token_check_needs_no_query(org, clock, django_assert_num_queries):
    secret = token_for(org["infra"])
    assert api_token_authenticate(secret=secret) is not None

    with django_assert_num_queries(0):
        assert api_token_authenticate(secret=secret) is not None


def test_a_token_revoked_elsewhere_is_refused_once_the_window_has_passed(org, clock):
    ci = bearer(token_for(org["infra"]))
    assert ci.get(STATE).status_code == 200
    # As another process would: straight in the database, this cache not told.
    ApiToken.objects.update(revoked_at=at(1, 9))

    clock.move_to(at(1, 9) + WINDOW)

    assert ci.get(STATE).status_code == 401


@pytest.mark.parametrize("seconds", [0, 4])
def test_a_token_revoked_elsewhere_may_be_served_only_within_the_window(org, clock, seconds):
    secret = token_for(org["infra"])
    assert api_token_authenticate(secret=secret) is not None
    ApiToken.objects.update(revoked_at=at(1, 9))

    clock.move_to(at(1, 9) + timedelta(seconds=seconds))

    assert api_token_authenticate(secret=secret) is not None


def test_with_the_window_at_zero_a_revocation_elsewhere_is_refused_at_once(org, clock, settings):
    settings.CLEARWAY_TOKEN_CACHE_SECONDS = 0
    ci = bearer(token_for(org["infra"]))
    assert ci.get(STATE).status_code == 200

    ApiToken.objects.update(revoked_at=at(1, 9))

    assert ci.get(STATE).status_code == 401


def test_a_cached_token_is_refused_exactly_at_its_expiry(org, clock):
    expiry = at(1, 9) + timedelta(seconds=2)
    ci = bearer(token_for(org["infra"], expires=expiry))
    clock.move_to(expiry - timedelta(microseconds=1))
    assert ci.get(STATE).status_code == 200

    clock.move_to(expiry)

    assert ci.get(STATE).status_code == 401


def test_a_token_of_a_deleted_team_is_refused_once_the_window_has_passed(org, clock):
    ci = bearer(token_for(org["infra"]))
    assert ci.get(STATE).status_code == 200
    System.objects.filter(team=org["infra"]).delete()
    Team.objects.filter(pk=org["infra"].pk).delete()

    clock.move_to(at(1, 9) + WINDOW)

    assert ci.get(STATE).status_code == 401


def test_last_used_is_written_at_most_once_a_minute(org, clock):
    secret = token_for(org["infra"])
    api_token_authenticate(secret=secret)
    # Past the cache's window, so the token is read again from the database.
    clock.move_to(at(1, 9) + timedelta(seconds=59))

    api_token_authenticate(secret=secret)

    assert ApiToken.objects.get().last_used == at(1, 9)


def test_a_token_revoked_in_the_admin_is_refused_at_once(org, clock):
    ci = bearer(token_for(org["infra"]))
    assert ci.get(STATE).status_code == 200
    token = ApiToken.objects.get()

    token.revoked_at = at(1, 9)
    token.save(update_fields=["revoked_at"])  # as the admin's change form does

    assert ci.get(STATE).status_code == 401


def test_a_token_of_a_team_deleted_in_this_process_is_refused_at_once(org, clock):
    ci = bearer(token_for(org["infra"]))
    assert ci.get(STATE).status_code == 200

    System.objects.filter(team=org["infra"]).delete()
    Team.objects.filter(pk=org["infra"].pk).delete()

    assert ci.get(STATE).status_code == 401

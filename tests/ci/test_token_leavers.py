"""A team token stops working once the person who made it leaves the team.

Removing a member (the team service, the API's team edit, the admin) revokes
the tokens of the team they made: `revoked_at` records when, and the token
stays dead if they come back. Tokens made by staff, who may make any team's,
stay. The clock starts at 2030-12-01 09:00 UTC (tests.personas.clock).
"""

import pytest

from scheduling import token_cache
from scheduling.errors import NotAllowed
from scheduling.models import ApiToken
from scheduling.services.catalogue import team_update
from scheduling.services.tokens import api_token_authenticate, api_token_create
from tests.builders import at
from tests.ci.clients import bearer
from tests.personas import as_user
from tests.workflow import job_body

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_cache():
    token_cache.clear()
    yield
    token_cache.clear()


def made_by(person, team) -> tuple[ApiToken, str]:
    return api_token_create(team=team, name="ci", scopes=["gate:read", "jobs:write"], by=person)


def test_a_token_no_longer_books_once_its_maker_has_left_the_team(org, requester, colleague):
    _, secret = made_by(requester, org["infra"])

    team_update(team=org["infra"], members=[colleague])  # alice leaves infra
    booked = bearer(secret).post("/api/v1/jobs", job_body(), format="json")

    assert booked.status_code == 401


def test_leaving_the_team_revokes_the_token_with_the_instant_it_happened(org, requester, colleague):
    token, _ = made_by(requester, org["infra"])

    team_update(team=org["infra"], members=[colleague])

    token.refresh_from_db()
    assert token.revoked_at == at(1, 9)


def test_the_token_stays_revoked_when_its_maker_comes_back(org, requester, colleague):
    _, secret = made_by(requester, org["infra"])
    team_update(team=org["infra"], members=[colleague])

    team_update(team=org["infra"], members=[colleague, requester])

    assert api_token_authenticate(secret=secret) is None


def test_removing_the_maker_through_the_teams_api_revokes_their_token(
    org, requester, colleague, admin
):
    token, _ = made_by(requester, org["infra"])

    edited = as_user(admin).patch("/api/v1/teams/infra", {"members": ["anna"]}, format="json")

    assert edited.status_code == 200, edited.json()
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_removing_the_maker_in_the_admin_revokes_their_token(
    org, requester, colleague, admin_client
):
    token, _ = made_by(requester, org["infra"])
    infra = org["infra"]

    page = admin_client.post(
        f"/admin/scheduling/team/{infra.pk}/change/",
        {
            "name": infra.name,
            "slug": infra.slug,
            "email_addresses": "[]",
            "webhook_url": "",
            "webhook_format": infra.webhook_format,
            "members": [colleague.pk],
        },
    )

    assert page.status_code == 302, page.content.decode()[:2000]
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_this_process_refuses_the_leavers_token_at_once_although_it_was_cached(
    org, requester, colleague
):
    _, secret = made_by(requester, org["infra"])
    assert api_token_authenticate(secret=secret) is not None  # now in the cache

    team_update(team=org["infra"], members=[colleague])

    assert api_token_authenticate(secret=secret) is None


def test_a_token_made_by_staff_outlives_their_leaving_the_team(org, admin):
    team_update(team=org["infra"], members=[admin])
    _, secret = made_by(admin, org["infra"])

    team_update(team=org["infra"], members=[])

    assert api_token_authenticate(secret=secret) is not None


def test_the_tokens_of_members_who_stay_keep_working(org, requester, colleague):
    _, secret = made_by(colleague, org["infra"])

    team_update(team=org["infra"], members=[colleague])

    assert api_token_authenticate(secret=secret) is not None


# --- an account deactivated or deleted ------------------------------------------------


def test_a_token_no_longer_books_once_its_makers_account_is_deactivated(org, requester):
    _, secret = made_by(requester, org["infra"])
    assert api_token_authenticate(secret=secret) is not None  # now in the cache

    requester.is_active = False
    requester.save()
    booked = bearer(secret).post("/api/v1/jobs", job_body(), format="json")

    assert booked.status_code == 401


def test_deactivating_an_account_in_the_admin_revokes_every_token_it_made(
    org, requester, admin_client
):
    infra_token, _ = made_by(requester, org["infra"])

    page = admin_client.post(
        f"/admin/auth/user/{requester.pk}/change/",
        {
            "username": requester.username,
            "first_name": requester.first_name,
            "last_name": requester.last_name,
            "email": requester.email,
            "date_joined_0": "2030-11-01",
            "date_joined_1": "09:00:00",
            "initial-date_joined_0": "2030-11-01",
            "initial-date_joined_1": "09:00:00",
        },  # "active" left unticked
    )

    assert page.status_code == 302, page.content.decode()[:2000]
    infra_token.refresh_from_db()
    assert infra_token.revoked_at == at(1, 9)


def test_deleting_the_makers_account_revokes_the_token_before_it_forgets_who_made_it(
    org, requester
):
    token, secret = made_by(requester, org["infra"])

    requester.delete()

    token.refresh_from_db()
    assert (token.revoked_at, token.created_by) == (at(1, 9), None)
    assert api_token_authenticate(secret=secret) is None


def test_a_deactivated_member_may_not_make_a_token(org, requester):
    requester.is_active = False
    requester.save()

    with pytest.raises(NotAllowed):
        made_by(requester, org["infra"])


def test_tokens_made_by_others_outlive_someone_elses_deactivation(org, requester, colleague):
    _, secret = made_by(colleague, org["infra"])

    requester.is_active = False
    requester.save()

    assert api_token_authenticate(secret=secret) is not None


def test_a_maker_deactivated_in_bulk_without_a_save_has_their_token_refused(org, requester):
    _, secret = made_by(requester, org["infra"])

    type(requester).objects.filter(pk=requester.pk).update(is_active=False)

    assert api_token_authenticate(secret=secret) is None

"""The API-token page: create (shown once), list and revoke a team's CI tokens."""

import re
from datetime import UTC, datetime

import pytest
import time_machine

from scheduling.models import ApiToken
from scheduling.models.tokens import digest
from tests import builders
from tests.ui.conftest import client_for

pytestmark = pytest.mark.django_db


def create(client, **overrides):
    data = {"name": "deploy pipeline", "team": "infra-dba", "scopes": ["gate:read"], **overrides}
    return client.post("/api-tokens/", data)


def test_a_member_creates_a_team_token_shown_once(alice):
    client = client_for(alice)

    html = create(client).content.decode()

    secret = re.search(r'id="new-token" type="text" readonly value="([^"]+)"', html).group(1)
    token = ApiToken.objects.get()
    assert token.digest == digest(secret)
    assert (token.team.slug, token.scopes, token.created_by) == ("infra-dba", ["gate:read"], alice)
    assert 'data-copy="new-token"' in html
    listing = client.get("/api-tokens/").content.decode()
    assert "deploy pipeline" in listing and secret not in listing


def test_a_token_with_scopes_and_an_expiry_in_the_viewers_zone(alice):
    with time_machine.travel(datetime(2030, 12, 1, 9, tzinfo=UTC), tick=False):
        client = client_for(alice)
        session = client.session
        session["clearway_zone"] = "America/New_York"
        session.save()

        response = create(client, scopes=["gate:read", "jobs:write"], expires="2031-01-01")

    assert response.status_code == 200
    token = ApiToken.objects.get()
    assert token.scopes == ["gate:read", "jobs:write"]
    assert token.expires == datetime(2031, 1, 1, 5, tzinfo=UTC)  # midnight in New York


def test_a_token_for_a_team_one_is_not_in_is_refused(alice, org):
    response = create(client_for(alice), team="grading")

    assert response.status_code == 400
    assert not ApiToken.objects.exists()


def test_a_token_without_a_scope_names_the_field(alice):
    response = create(client_for(alice), scopes=[])

    assert response.status_code == 400
    assert 'id="id_scopes_error"' in response.content.decode()


def test_revoking_stops_the_token_and_drops_it_from_the_list(alice):
    client = client_for(alice)
    create(client)
    token = ApiToken.objects.get()

    client.post(f"/api-tokens/{token.pk}/revoke/")

    token.refresh_from_db()
    assert token.revoked_at is not None
    assert "deploy pipeline" not in client.get("/api-tokens/").content.decode()


def test_another_team_cannot_revoke_it(alice, bob):
    create(client_for(alice))
    token = ApiToken.objects.get()

    client_for(bob).post(f"/api-tokens/{token.pk}/revoke/")

    token.refresh_from_db()
    assert token.revoked_at is None


def test_the_job_page_links_create_a_team_token_to_the_page(alice, org):
    job = builders.job(title="Vacuum", by=alice, owner=org["infra"])

    html = client_for(alice).get(f"/jobs/{job.pk}/").content.decode()

    assert '<a href="/api-tokens/">Create a team token</a>' in html

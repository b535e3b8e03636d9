"""/api/v1/feed-tokens: a person's calendar addresses, shown once, stored as digests."""

import hashlib

import pytest
from rest_framework.test import APIClient

from scheduling.models import FeedToken
from tests import builders


@pytest.fixture
def sam(db):
    return builders.user("sam")


def signed_in(person) -> APIClient:
    client = APIClient()
    client.force_authenticate(person)
    return client


def test_creating_a_token_shows_it_once_with_one_address_per_feed(sam, settings):
    response = signed_in(sam).post("/api/v1/feed-tokens", {"name": "Phone"}, format="json")

    assert response.status_code == 201
    body = response.json()
    secret = body["token"]
    assert body["name"] == "Phone"
    assert body["urls"] == {
        feed: f"{settings.SITE_URL}/calendar/{secret}/{feed}.ics"
        for feed in ("all", "blackouts", "deadlines", "maintenance")
    }
    stored = FeedToken.objects.get(pk=body["id"])
    assert stored.digest == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(FeedToken.objects.values().get(pk=body["id"]))


def test_the_list_shows_my_live_tokens_without_secrets(sam):
    me = signed_in(sam)
    kept = me.post("/api/v1/feed-tokens", {"name": "Phone"}, format="json").json()
    gone = me.post("/api/v1/feed-tokens", {"name": "Old laptop"}, format="json").json()
    signed_in(builders.user("pat")).post("/api/v1/feed-tokens", {"name": "Pat's"}, format="json")
    me.delete(f"/api/v1/feed-tokens/{gone['id']}")

    listed = me.get("/api/v1/feed-tokens").json()["results"]

    assert [t["name"] for t in listed] == ["Phone"]
    assert set(listed[0]) == {"id", "name", "created", "last_used"}
    assert listed[0]["id"] == kept["id"]


def test_a_token_can_be_renamed(sam):
    me = signed_in(sam)
    token = me.post("/api/v1/feed-tokens", {"name": "Phone"}, format="json").json()

    response = me.patch(f"/api/v1/feed-tokens/{token['id']}", {"name": "Work phone"}, format="json")

    assert response.status_code == 200
    assert response.json()["name"] == "Work phone"
    assert "token" not in response.json()


def test_revoking_a_token_turns_its_addresses_off(sam):
    me = signed_in(sam)
    token = me.post("/api/v1/feed-tokens", {"name": "Phone"}, format="json").json()
    assert APIClient().get(token["urls"]["all"]).status_code == 200

    assert me.delete(f"/api/v1/feed-tokens/{token['id']}").status_code == 204

    assert APIClient().get(token["urls"]["all"]).status_code == 404
    assert FeedToken.objects.get(pk=token["id"]).revoked_at is not None
    assert me.delete(f"/api/v1/feed-tokens/{token['id']}").status_code == 404


def test_nobody_else_can_rename_or_revoke_my_token(sam):
    token = signed_in(sam).post("/api/v1/feed-tokens", {"name": "Phone"}, format="json").json()
    pat = signed_in(builders.user("pat"))

    assert pat.delete(f"/api/v1/feed-tokens/{token['id']}").status_code == 404
    assert pat.patch(f"/api/v1/feed-tokens/{token['id']}", {"name": "x"}).status_code == 404
    assert FeedToken.objects.get(pk=token["id"]).revoked_at is None


def test_a_name_is_required_and_anonymous_people_are_refused(sam):
    response = signed_in(sam).post("/api/v1/feed-tokens", {"name": "  "}, format="json")
    assert response.status_code == 400
    assert "name" in response.json()["errors"]

    assert APIClient().post("/api/v1/feed-tokens", {"name": "x"}).status_code in (401, 403)
    assert APIClient().get("/api/v1/feed-tokens").status_code in (401, 403)


def test_revoking_a_token_id_of_thousands_of_digits_is_a_404(sam):
    # int() refuses more than 4,300 digits: the revocation answered 500.
    answer = signed_in(sam).delete("/api/v1/feed-tokens/" + "9" * 5000)

    assert answer.status_code == 404

"""GET /api/v1/ (the API root) links only to the API, never to a page of the UI."""

from urllib.parse import urlparse

import pytest

pytestmark = pytest.mark.django_db


def test_the_api_root_links_only_to_api_urls(client, django_user_model):
    user = django_user_model.objects.create_user("root-reader", password="x")
    client.force_login(user)

    response = client.get("/api/v1/", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    links = response.json()
    # The UI has pages named like the API's lists (jobs, systems, blackouts, deadlines).
    assert {"jobs", "systems", "blackouts", "deadlines"} <= set(links)
    assert {name: urlparse(url).path for name, url in links.items()} == {
        name: f"/api/v1/{name}" for name in links
    }


def test_the_api_root_answers_without_its_trailing_slash_too(client, django_user_model):
    user = django_user_model.objects.create_user("root-reader", password="x")
    client.force_login(user)

    with_slash = client.get("/api/v1/", HTTP_ACCEPT="application/json")
    without = client.get("/api/v1", HTTP_ACCEPT="application/json")

    assert without.status_code == 200
    assert without.json() == with_slash.json()

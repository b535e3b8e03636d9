"""`systems=a,b` means the same to the CI API and to the calendar feeds
(scheduling.selectors.system_list): trimmed, each once, every one known, at most 100."""

import pytest
from django.test import Client

from scheduling.calendar_feeds.tokens import feed_token_create
from scheduling.selectors import MAX_SYSTEMS, system_list
from tests import builders

pytestmark = pytest.mark.django_db

TOO_MANY = ",".join(f"s{n}" for n in range(MAX_SYSTEMS + 1))


def feed(query: str):
    _, secret = feed_token_create(user=builders.user(), name="Phone")
    return Client().get(f"/calendar/{secret}/all.ics", {"systems": query})


def test_names_are_trimmed_and_kept_once_in_order(grading_stack):
    assert system_list(raw=" grading-api, grading-db ,grading-api,") == [
        "grading-api",
        "grading-db",
    ]


def test_the_api_and_the_feeds_refuse_too_many_systems_with_one_message(
    grading_stack, admin_client
):
    api = admin_client.get("/api/v1/state", {"systems": TOO_MANY}).json()

    assert api["errors"]["systems"] == [f"Name at most {MAX_SYSTEMS} systems at once."]
    assert feed(TOO_MANY).json()["errors"]["systems"] == api["errors"]["systems"]


def test_the_api_and_the_feeds_name_the_unknown_systems_alike(grading_stack, admin_client):
    api = admin_client.get("/api/v1/state", {"systems": "grading-db, nope"})

    assert api.status_code == feed("grading-db, nope").status_code == 400
    assert feed("grading-db, nope").json()["errors"] == api.json()["errors"]
    assert api.json()["errors"]["systems"] == ["Unknown system(s): nope."]


def test_a_feed_may_name_no_system_but_the_api_must(grading_stack, admin_client):
    assert feed(" , ").status_code == 200
    assert admin_client.get("/api/v1/state", {"systems": " , "}).status_code == 400

"""Medium: team webhooks, email addresses and feed URLs are the team's own.

`GET /api/v1/teams` shows `webhook_url` and `email_addresses` to the team's
members and administrators only; a deadline feed's URL is shown to other
teams as its scheme and host, whether its secret is in the query, the path
(Canvas) or before the host, and so to members of its team who may not
publish deadlines (the feed pages refuse them too).
"""

import pytest

from deadlines.feeds.api import redacted_url
from scheduling.services.catalogue import team_update
from tests.deadlines.helpers import feed
from tests.personas import as_user

pytestmark = pytest.mark.django_db

SLACK = "https://hooks.slack.com/services/T000/B000/XXXXsecretXXXX"


@pytest.fixture
def infra_with_a_webhook(org):
    return team_update(team=org["infra"], webhook_url=SLACK)


def teams_seen_by(client) -> dict[str, dict]:
    answer = client.get("/api/v1/teams")
    assert answer.status_code == 200
    return {team["slug"]: team for team in answer.json()["results"]}


def test_another_team_sees_no_webhook_or_addresses(infra_with_a_webhook, reviewer):
    seen = teams_seen_by(as_user(reviewer))["infra"]

    assert "email_addresses" not in seen
    assert seen.get("webhook_url", "") != SLACK  # masked
    assert SLACK not in as_user(reviewer).get("/api/v1/teams/infra").content.decode()


def test_members_see_their_teams_webhook(infra_with_a_webhook, requester):
    seen = teams_seen_by(as_user(requester))["infra"]

    assert seen["webhook_url"] == SLACK
    assert seen["email_addresses"] == ["infra@example.org"]


def test_administrators_see_every_webhook(infra_with_a_webhook, admin):
    assert teams_seen_by(as_user(admin))["infra"]["webhook_url"] == SLACK


def test_an_outsider_sees_no_webhook(infra_with_a_webhook, outsider):
    assert SLACK not in as_user(outsider).get("/api/v1/teams").content.decode()


def test_listing_teams_takes_no_query_per_team(
    infra_with_a_webhook, reviewer, django_assert_max_num_queries
):
    client = as_user(reviewer)
    with django_assert_max_num_queries(4):
        client.get("/api/v1/teams")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "https://canvas.example.edu/feeds/calendars/user_8Hq2kfP0aZs9rT4b.ics",
            "https://canvas.example.edu/…",
        ),
        (
            "https://moodle.example.edu/export.php?userid=7&authtoken=s3cret",
            "https://moodle.example.edu/…",
        ),
        ("https://carol:hunter2@lms.example.edu:8443/cal.ics", "https://lms.example.edu:8443/…"),
        ("https://lms.example.edu", "https://lms.example.edu"),
    ],
)
def test_a_feed_url_is_redacted_to_its_host(url, shown):
    assert redacted_url(url) == shown


def test_another_team_sees_a_canvas_feed_without_its_secret_path(org, reviewer):
    canvas = "https://canvas.example.edu/feeds/calendars/user_8Hq2kfP0aZs9rT4b.ics"
    target = feed(canvas, team=org["curriculum"])

    seen = as_user(reviewer).get(f"/api/v1/deadline-feeds/{target.pk}")

    assert "8Hq2kfP0aZs9rT4b" not in seen.content.decode()


MOODLE = "https://moodle.example.edu/export.php?userid=7&authtoken=s3cretT0ken"


def test_a_member_who_may_not_publish_lists_their_teams_feed_without_its_secret(org, requester):
    feed(MOODLE, team=org["infra"])  # infra is no curriculum team: alice cannot publish for it

    listed = as_user(requester).get("/api/v1/deadline-feeds")

    assert listed.status_code == 200
    assert [f["url"] for f in listed.json()["results"]] == ["https://moodle.example.edu/…"]


def test_a_member_who_may_not_publish_reads_their_teams_feed_without_its_secret(org, requester):
    target = feed(MOODLE, team=org["infra"])

    seen = as_user(requester).get(f"/api/v1/deadline-feeds/{target.pk}")

    assert "s3cretT0ken" not in seen.content.decode()

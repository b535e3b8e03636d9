"""A feed URL with white space in it is refused when registered, not at every sync."""

import pytest
from rest_framework.test import APIClient

from deadlines.models import DeadlineFeed
from tests import builders

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    ["https://moodle example.edu/feed.ics", "https://moodle\texample.edu/feed.ics"],
    ids=["space", "tab"],
)
def test_a_url_with_white_space_is_a_400_on_url(url):
    curriculum = builders.team("curriculum")
    builders.system("grading-api")
    carol = builders.user("carol", team=curriculum)
    client = APIClient()
    client.force_authenticate(carol)

    answer = client.post(
        "/api/v1/deadline-feeds",
        {"url": url, "format": "ics", "team": "curriculum", "cohort_size": 10},
        format="json",
    )

    assert answer.status_code == 400, answer.json()
    assert list(answer.json()["errors"]) == ["url"]
    assert not DeadlineFeed.objects.exists()

"""The timeline's row for a system shades the traffic reaching it through a
dependency, whichever filter is on: a deadline on grading-api refuses exclusive
work on grading-db (which grading-api depends on), so the unfiltered page shows
that on grading-db's row as the grading-db filter does."""

import re
from datetime import UTC, timedelta

import pytest
from django.utils import timezone

from tests import builders
from tests.ui.conftest import client_for

pytestmark = pytest.mark.django_db


def refuse_bars(html: str) -> dict[str, int]:
    """Per system row of the timeline, how many bars are at the refuse level."""
    counts = {}
    for row in re.findall(r'<section class="track-row">(.*?)</section>', html, re.S):
        system = re.search(r'href="/systems/([^/]+)/"', row).group(1)
        counts[system] = row.count("traffic-bar traffic-refuse")
    return counts


@pytest.fixture
def big_deadline_on_grading_api(org):
    due = (timezone.now() + timedelta(days=2)).astimezone(UTC)
    due = due.replace(hour=12, minute=0, second=0, microsecond=0)
    builders.deadline(
        title="Project 3",
        due=due,
        cohort_size=2000,
        systems=("grading-api",),
        owner=org["curriculum"],
    )
    return due


@pytest.mark.parametrize("chosen", [{}, {"team": "infra-dba"}], ids=["unfiltered", "team"])
def test_grading_dbs_row_shades_traffic_on_what_depends_on_it(
    alice, big_deadline_on_grading_api, chosen
):
    day = big_deadline_on_grading_api.date().isoformat()
    client = client_for(alice)

    shown = client.get("/", {"view": "timeline", "date": day, **chosen}).content.decode()
    alone = client.get(
        "/", {"view": "timeline", "date": day, "system": "grading-db"}
    ).content.decode()

    assert refuse_bars(alone)["grading-db"] >= 1
    assert refuse_bars(shown)["grading-db"] == refuse_bars(alone)["grading-db"]

"""The web calendar filtered to a system shows what reaches it through dependencies,
shades each hour from the step function /checks folds, and draws drafts and
conflicted jobs."""

import re
from datetime import datetime, timedelta

import pytest
from django.test import Client

from tests import builders
from tests.builders import at
from tests.personas import as_user

pytestmark = pytest.mark.django_db


def week_of(person, **params) -> str:
    client = Client()
    client.force_login(person)
    response = client.get("/", {"view": "week", "date": "2030-12-09", **params})
    assert response.status_code == 200
    return response.content.decode()


def test_grading_dbs_calendar_shows_the_deadline_on_grading_api_and_where_it_comes_from(
    requester,
):
    builders.deadline(due=at(11, 12), cohort_size=2000, systems=["grading-api"], title="Project 3")

    html = week_of(requester, system="grading-db")

    assert "Project 3 (2,000 students)" in html
    assert "via grading-api" in html


def test_a_calendar_of_an_unrelated_system_leaves_the_deadline_out(requester):
    builders.deadline(due=at(11, 12), cohort_size=2000, systems=["grading-api"], title="Project 3")

    assert "Project 3" not in week_of(requester, system="reports-db")


def test_each_shaded_hour_says_what_checks_says_for_that_hour(requester, ci_client):
    builders.deadline(due=at(11, 12), cohort_size=700, systems=["grading-api"])
    builders.deadline(due=at(12, 3), cohort_size=600, systems=["grading-api", "submissions-web"])

    html = week_of(requester, system="grading-db")
    hours = re.findall(r'data-start="([^"]+)" data-level="([^"]+)"', html)

    assert {level for _, level in hours} >= {"flag", "refuse"}
    for start, level in hours[::5]:
        begin = datetime.fromisoformat(start)
        check = ci_client.post(
            "/api/v1/checks",
            {
                "systems": ["grading-db"],
                "start": begin.isoformat(),
                "end": (begin + timedelta(hours=1)).isoformat(),
            },
            format="json",
        ).json()
        expected = {"none": "clear", "low": "clear"}.get(level, level)
        assert check["decision"] == expected, (start, level, check["findings"])


def test_draft_and_conflicted_jobs_are_drawn_with_a_legend(requester):
    builders.job(systems=["grading-db"], start=at(10, 8), title="Draft reindex", by=requester)

    html = week_of(requester)

    assert "Draft reindex" in html
    assert "Draft (not submitted)" in html
    assert "Conflicted maintenance" in html


@pytest.fixture
def ci_client(requester):
    return as_user(requester)

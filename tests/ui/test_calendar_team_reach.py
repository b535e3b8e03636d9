"""A team's calendar shows what reaches the team's systems through their
dependencies, as the calendar of one of those systems does: a deadline or a
refusing blackout on grading-api (which depends on grading-db) refuses work on
grading-db, so infra-dba (which owns grading-db) sees it, marked with where it is."""

import re

import pytest

from tests import builders
from tests.builders import at
from tests.ui.conftest import client_for

pytestmark = pytest.mark.django_db


def entries(html: str, title: str) -> list[str]:
    """The text of each calendar entry whose title holds `title`."""
    found = re.findall(r'<li class="item [^"]*">(.*?)</li>', html, re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", body).split()) for body in found if title in body]


def test_a_teams_calendar_lists_a_deadline_on_a_system_depending_on_its_own(frozen_now, alice, org):
    builders.deadline(
        title="Project Nine", due=at(10, 12), systems=("grading-api",), owner=org["curriculum"]
    )

    html = client_for(alice).get("/", {"date": "2030-12-10", "team": "infra-dba"}).content.decode()

    assert [e for e in entries(html, "Project Nine") if "via grading-api" in e]


def test_a_teams_calendar_lists_a_refusing_blackout_on_a_system_depending_on_its_own(
    frozen_now, alice, org
):
    builders.blackout(
        title="Exam Blackout",
        systems=("grading-api",),
        start=at(10, 12),
        end=at(10, 18),
        owner=org["platform"],
    )

    html = client_for(alice).get("/", {"date": "2030-12-10", "team": "infra-dba"}).content.decode()

    assert [e for e in entries(html, "Exam Blackout") if "via grading-api" in e]


def test_a_teams_calendar_leaves_out_what_reaches_none_of_its_systems(frozen_now, alice, org):
    builders.blackout(title="LMS Upgrade", systems=("lms-web",), start=at(10, 12), end=at(10, 18))

    html = client_for(alice).get("/", {"date": "2030-12-10", "team": "infra-dba"}).content.decode()

    assert entries(html, "LMS Upgrade") == []

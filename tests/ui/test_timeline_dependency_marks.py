"""The timeline's row for a system marks what reaches it through a dependency,
whichever filter is on, as it shades that traffic: a deadline or a refusing
blackout on grading-api (which depends on grading-db) refuses work on
grading-db, so grading-db's row draws them, saying where they are."""

import re

import pytest

from tests import builders
from tests.builders import at
from tests.ui.conftest import client_for

pytestmark = pytest.mark.django_db

FILTERS = pytest.mark.parametrize(
    "chosen", [{}, {"system": "grading-db"}], ids=["unfiltered", "grading-db"]
)


def rows(client, **chosen) -> dict[str, str]:
    """Each row of the timeline from 8 December 2030, by its system."""
    html = client.get("/", {"view": "timeline", "date": "2030-12-08", **chosen}).content.decode()
    return {
        re.search(r'href="/systems/([^/]+)/"', row).group(1): row
        for row in re.findall(r'<section class="track-row">(.*?)</section>', html, re.S)
    }


def marks(row: str, kind: str) -> list[str]:
    """The label of each mark of `kind` on a row."""
    found = re.findall(rf'<a class="mark mark-{kind} [^"]*"[^>]*>(.*?)</a>', row, re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", label).split()) for label in found]


@FILTERS
def test_a_systems_row_marks_a_deadline_on_a_system_depending_on_it(frozen_now, alice, org, chosen):
    builders.deadline(
        title="Project 3", due=at(10, 12), systems=("grading-api",), owner=org["curriculum"]
    )

    row = rows(client_for(alice), **chosen)["grading-db"]

    assert "traffic-bar traffic-refuse" in row
    assert [m for m in marks(row, "deadline") if "Project 3" in m]


@FILTERS
def test_a_systems_row_marks_a_refusing_blackout_on_a_system_depending_on_it(
    frozen_now, alice, org, chosen
):
    builders.blackout(title="Exam Blackout", systems=("grading-api",), start=at(10), end=at(11))

    row = rows(client_for(alice), **chosen)["grading-db"]

    assert [m for m in marks(row, "blackout") if "Exam Blackout" in m]


def test_a_mark_reaching_a_row_through_a_dependency_says_where_it_is(frozen_now, alice, org):
    builders.blackout(title="Exam Blackout", systems=("grading-api",), start=at(10), end=at(11))

    shown = rows(client_for(alice))

    assert [m for m in marks(shown["grading-db"], "blackout") if "via grading-api" in m]
    assert [m for m in marks(shown["grading-api"], "blackout") if "via" in m] == []


def test_a_systems_row_leaves_out_what_does_not_reach_it(frozen_now, alice, org):
    builders.blackout(title="LMS Upgrade", systems=("lms-web",), start=at(10), end=at(11))

    shown = rows(client_for(alice))

    assert marks(shown["grading-db"], "blackout") == []
    assert marks(shown["lms-web"], "blackout")

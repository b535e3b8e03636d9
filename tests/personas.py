"""The people of the workflow tests, as fixtures, and the clock they work under.

The organisation: infra owns grading-db and reports-db; grading owns grading-api
and submissions-web (which depend on grading-db); curriculum publishes
deadlines; platform is the administrators' team (settings.CLEARWAY_ADMIN_TEAM).
The clock is stopped at 2030-12-01 09:00 UTC; jobs are booked days later.

The conftests of the workflow test folders import these fixtures.
"""

from datetime import datetime

import pytest
import time_machine
from rest_framework.test import APIClient

from tests import builders
from tests.builders import at

START = at(1, 9)


@pytest.fixture
def clock():
    """The clock stopped at START; `clock.move_to(...)` moves it, still stopped."""
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def org(clock, grading_stack, settings):
    """The teams and systems every workflow test starts from."""
    infra = grading_stack["infra"]
    builders.system("reports-db", owner=infra)
    return {
        **grading_stack,
        "curriculum": builders.team("curriculum", name="Curriculum"),
        "platform": builders.team(settings.CLEARWAY_ADMIN_TEAM, name="Platform"),
        "exams": builders.team("exams", name="Exams office"),
    }


@pytest.fixture
def requester(org):
    """An infra engineer who books jobs for infra."""
    return builders.user("alice", team=org["infra"])


@pytest.fixture
def colleague(org):
    """A second infra engineer."""
    return builders.user("anna", team=org["infra"])


@pytest.fixture
def reviewer(org):
    """A member of grading, which owns the systems that depend on grading-db."""
    return builders.user("bob", team=org["grading"])


@pytest.fixture
def curriculum_staff(org):
    return builders.user("carol", team=org["curriculum"])


@pytest.fixture
def exams_officer(org):
    return builders.user("erin", team=org["exams"])


@pytest.fixture
def admin(org):
    """An administrator: staff, and a member of the administrators' team."""
    return builders.user("pat", team=org["platform"], staff=True)


@pytest.fixture
def outsider(org):
    """Signed in, but a member of no team."""
    return builders.user("olly")


def as_user(person) -> APIClient:
    client = APIClient()
    client.force_authenticate(person)
    return client


def iso(moment: datetime) -> str:
    return moment.isoformat()

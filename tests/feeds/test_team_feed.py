"""A team's feed (`?team=`) holds what its calendar page shows: the team's own
events, whatever is on or reaches (through a dependency) the systems it owns,
and the freezes that stop that work.

The stack: infra owns grading-db; grading owns grading-api (which depends on
grading-db) and submissions-web; platform owns lms-web.
"""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from blackouts.services import blackout_update
from scheduling.calendar_feeds import assembly
from scheduling.services.catalogue import system_save
from scheduling.services.freeze import freeze_schedule
from tests import builders
from tests.builders import at
from tests.feeds.conftest import body_of, submitted

pytestmark = pytest.mark.django_db

INFRA = "?team=infra"


@pytest.fixture
def platform(grading_stack):
    team = builders.team("platform", name="Platform")
    builders.system("lms-web", owner=team)
    return team


@pytest.fixture
def admin(db):
    return builders.user("pat", staff=True)


def test_a_team_feed_holds_another_teams_job_on_a_system_the_team_owns(
    feeds, frozen_now, people, grading_stack
):
    job = builders.job(
        title="Grading reindex",
        systems=("grading-db",),
        owner=grading_stack["grading"],
        by=people["bob"],
    )
    submitted(job, by=people["bob"])

    assert f"job-{job.pk}@clearway" in feeds.events(query=INFRA)


def test_a_team_feed_holds_another_teams_blackout_on_a_system_the_team_owns(
    feeds, frozen_now, people, platform
):
    blackout = builders.blackout(title="Db move", systems=("grading-db",), owner=platform)

    assert f"blackout-{blackout.pk}@clearway" in feeds.events(query=INFRA)


def test_a_team_feed_holds_a_deadline_that_reaches_its_system_through_a_dependency(
    feeds, frozen_now, people
):
    # Work on grading-db impacts grading-api, where the deadline's traffic is.
    deadline = builders.deadline(title="Project 9", systems=("grading-api",))

    found = feeds.events(query=INFRA)

    assert {f"deadline-{deadline.pk}@clearway", f"traffic-{deadline.pk}@clearway"} <= set(found)


def test_an_event_that_reaches_a_team_system_names_the_system_it_is_on(feeds, frozen_now, people):
    deadline = builders.deadline(title="Project 9", systems=("grading-api",))

    event = feeds.events(query=INFRA)[f"deadline-{deadline.pk}@clearway"]

    assert "grading-api" in str(event["SUMMARY"])


def test_a_team_feed_leaves_out_what_only_reaches_systems_upstream_of_its_own(
    feeds, frozen_now, people, platform
):
    # A blackout on grading-db stops no work on grading-api, which only depends on it.
    blackout = builders.blackout(title="Db move", systems=("grading-db",), owner=platform)

    assert f"blackout-{blackout.pk}@clearway" not in feeds.events(query="?team=grading")


def test_a_team_feed_leaves_out_other_teams_events_on_systems_it_does_not_reach(
    feeds, frozen_now, people, platform
):
    blackout = builders.blackout(title="LMS upgrade", systems=("lms-web",), owner=platform)

    assert f"blackout-{blackout.pk}@clearway" not in feeds.events(query=INFRA)


def test_a_team_feed_keeps_the_teams_own_events_on_other_teams_systems(
    feeds, frozen_now, people, platform, grading_stack
):
    blackout = builders.blackout(
        title="Replica check", systems=("lms-web",), owner=grading_stack["infra"]
    )

    assert f"blackout-{blackout.pk}@clearway" in feeds.events(query=INFRA)


def test_a_team_feed_holds_a_freeze_on_every_system(feeds, frozen_now, people, admin):
    freeze = freeze_schedule(reason="Exams", start=at(5, 9), end=at(5, 17), by=admin)

    assert f"freeze-{freeze.pk}@clearway" in feeds.events(query=INFRA)


def test_a_team_feed_holds_a_freeze_on_a_system_the_team_owns(feeds, frozen_now, people, admin):
    freeze = freeze_schedule(
        reason="Db audit", start=at(5, 9), end=at(5, 17), systems=["grading-db"], by=admin
    )

    assert f"freeze-{freeze.pk}@clearway" in feeds.events("blackouts", query=INFRA)


def test_a_team_feed_leaves_out_a_freeze_on_systems_it_does_not_reach(
    feeds, frozen_now, people, platform, admin
):
    freeze = freeze_schedule(
        reason="LMS audit", start=at(5, 9), end=at(5, 17), systems=["lms-web"], by=admin
    )

    assert f"freeze-{freeze.pk}@clearway" not in feeds.events(query=INFRA)


def test_a_team_feeds_etag_changes_when_another_teams_event_on_its_system_changes(
    feeds, frozen_now, people, platform
):
    blackout = builders.blackout(title="Db move", systems=("grading-db",), owner=platform)
    first = feeds.get(query=INFRA)

    blackout_update(blackout=blackout, title="Db move again")

    with time_machine.travel(frozen_now + timedelta(seconds=assembly.VALIDATOR_TTL + 1)):
        again = feeds.get(query=INFRA, If_None_Match=first["ETag"])
    assert again.status_code == 200
    assert again["ETag"] != first["ETag"]
    assert b"Db move again" in body_of(again)


def test_a_team_feeds_etag_changes_at_once_when_the_team_is_given_a_system(
    feeds, frozen_now, people, platform, grading_stack
):
    builders.blackout(title="LMS upgrade", systems=("lms-web",), owner=platform)
    first = feeds.get(query=INFRA)
    lms = platform.systems.get(slug="lms-web")

    system_save(slug="lms-web", name=lms.name, team=grading_stack["infra"], system=lms)

    # No wait for the cached validator: the team's systems are part of its key.
    again = feeds.get(query=INFRA, If_None_Match=first["ETag"])
    assert again.status_code == 200
    assert again["ETag"] != first["ETag"]
    assert b"LMS upgrade" in body_of(again)


def _queries_of_a_team_feed(feeds) -> int:
    feeds.get(query=INFRA)  # texts stored, the token's first use written
    assembly._store().clear()
    with CaptureQueriesContext(connection) as captured:
        body_of(feeds.get(query=INFRA))
    return len(captured)


def test_a_team_feeds_queries_do_not_grow_with_what_reaches_its_systems(
    feeds, frozen_now, people, platform
):
    def reaching(count: int) -> None:
        for n in range(count):
            builders.blackout(title=f"Db {n}", systems=("grading-db",), owner=platform)
            builders.deadline(title=f"Project {n}", systems=("grading-api",))

    reaching(1)
    few = _queries_of_a_team_feed(feeds)
    reaching(5)

    assert _queries_of_a_team_feed(feeds) == few


def test_a_feed_of_a_team_owning_no_system_holds_its_own_events_and_those_on_every_system(
    feeds, frozen_now, people, platform
):
    curriculum = builders.team("curriculum")
    own = builders.deadline(title="Project 9", systems=("grading-api",), owner=curriculum)
    everywhere = builders.blackout(title="Exams", owner=platform)
    builders.blackout(title="LMS upgrade", systems=("lms-web",), owner=platform)

    assert set(feeds.events(query="?team=curriculum")) == {
        f"deadline-{own.pk}@clearway",
        f"traffic-{own.pk}@clearway",
        f"blackout-{everywhere.pk}@clearway",
    }


def test_a_team_feeds_conditional_get_reads_only_the_token_and_the_teams_reach(
    feeds, frozen_now, people, platform, django_assert_num_queries
):
    builders.blackout(title="Db move", systems=("grading-db",), owner=platform)
    first = feeds.get(query=INFRA)

    # The token, the team's existence, the systems it owns and the calendar
    # version (their reach comes from the per-version cache); no event is read.
    with django_assert_num_queries(4):
        again = feeds.get(query=INFRA, If_None_Match=first["ETag"])

    assert again.status_code == 304

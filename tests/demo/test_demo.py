"""The demo organisation: safe to load twice, and it shows the incident being prevented."""

import io
from datetime import UTC, datetime

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from blackouts.models import Blackout
from deadlines.models import Cohort, Deadline
from demo.data import load_demo
from scheduling.models import MaintenanceJob, System, Team

# A Wednesday morning in London, far from any real clock.
DEMO_NOW = datetime(2030, 11, 20, 9, tzinfo=UTC)
QUARTERLY = "Quarterly grading-db optimisation (VACUUM FULL, REINDEX)"


@pytest.fixture
def demo_clock():
    with time_machine.travel(DEMO_NOW, tick=False):
        yield DEMO_NOW


def counts() -> dict[str, int]:
    models = [Team, System, MaintenanceJob, Blackout, Deadline, Cohort]
    return {model.__name__: model.objects.count() for model in models}


def test_first_load_creates_the_organisation(demo_clock, db):
    created = load_demo()

    assert "job " + QUARTERLY in created
    assert counts() == {
        "Team": 4,
        "System": 5,
        "MaintenanceJob": 3,
        "Blackout": 2,
        "Deadline": 4,
        "Cohort": 3,
    }


def test_second_load_creates_nothing(demo_clock, db):
    load_demo()
    before = counts()

    created = load_demo()

    assert created == []
    assert counts() == before


def test_command_says_so_when_the_demo_is_already_loaded(demo_clock, db, capsys, settings):
    settings.DEBUG = True
    call_command("load_demo")

    call_command("load_demo")

    assert "nothing to do" in capsys.readouterr().out


def test_quarterly_exclusive_job_is_refused_by_the_2000_student_deadline(demo_clock, db):
    load_demo()

    job = MaintenanceJob.objects.get(title=QUARTERLY)

    assert (job.impact, job.decision) == ("exclusive_lock", "refuse")
    refusals = [f for f in job.findings if f["kind"] == "deadline" and f["severity"] == "refuse"]
    assert refusals
    assert "Project 3" in refusals[0]["message"]
    assert "2,000 students" in refusals[0]["message"]


def test_quarterly_job_is_refused_on_its_first_occurrence_only(demo_clock, db):
    load_demo()

    job = MaintenanceJob.objects.get(title=QUARTERLY)

    refused_on = {f["occurrence"] for f in job.findings if f["severity"] == "refuse"}
    assert refused_on == {job.start.isoformat()}


def test_demo_loaded_on_another_day_still_shows_the_collision(db):
    with time_machine.travel(datetime(2031, 6, 29, 23, 30, tzinfo=UTC), tick=False):
        load_demo()

    assert MaintenanceJob.objects.get(title=QUARTERLY).decision == "refuse"


def test_the_demo_has_a_pending_and_an_approved_job(demo_clock, db):
    load_demo()

    statuses = dict(MaintenanceJob.objects.values_list("title", "status"))

    assert statuses["Reindex the submissions table"] == "pending"
    assert statuses["Kernel patching on the learning platform"] == "approved"
    assert statuses[QUARTERLY] == "draft"


def test_bob_finds_the_pending_job_in_his_review_inbox(demo_clock, db, client):
    load_demo()
    client.login(username="bob", password="clearway-demo")

    html = client.get("/reviews/").content.decode()

    assert "Reindex the submissions table" in html


def test_the_command_refuses_without_debug_or_yes(demo_clock, db, settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="DEBUG=1"):
        call_command("load_demo")

    assert not get_user_model().objects.filter(username="admin").exists()


def test_the_command_loads_a_demo_deployment_when_told_yes(demo_clock, db, settings):
    settings.DEBUG = False

    call_command("load_demo", "--yes", stdout=io.StringIO())

    assert counts()["Team"] == 4


def test_an_account_that_was_there_before_joins_no_demo_team(demo_clock, db):
    bob = get_user_model().objects.create_user(username="bob", password="x" * 20)

    load_demo()

    assert not bob.teams.exists()

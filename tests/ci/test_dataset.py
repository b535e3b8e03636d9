"""manage.py generate_dataset: the benchmark's rows, consistent the way the services write them."""

import io
import itertools
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command

from blackouts.models import Blackout, BlackoutOccurrence
from deadlines.models import Deadline
from scheduling.models import CalendarChange, MaintenanceJob, System
from scheduling.selectors import impacted_systems
from scheduling.services.occurrences import horizon_end
from tests.builders import at
from tests.ci.clients import bearer, token_for

pytestmark = pytest.mark.django_db

SCALE = "0.002"
WEEKS = {timedelta(days=7), timedelta(days=7, hours=1), timedelta(days=6, hours=23)}


@pytest.fixture
def generated(clock):
    out = io.StringIO()
    call_command("generate_dataset", "--scale", SCALE, stdout=out)
    return out.getvalue()


def test_it_prints_what_it_made(generated):
    assert generated.strip() == (
        "4 teams, 10 systems, 100 jobs, 200 deadlines, 4 blackouts, "
        f"{BlackoutOccurrence.objects.count():,} blackout_occurrences"
    )
    assert System.objects.count() == 10
    assert MaintenanceJob.objects.count() == 100
    assert Deadline.objects.count() == 200


def test_systems_depend_on_each_other_in_groups(generated):
    api = System.objects.get(slug="sys-1")

    assert [s.slug for s in api.depends_on.all()] == ["sys-0"]
    assert impacted_systems(systems=["sys-0"]) == {"sys-0", "sys-1", "sys-2", "sys-3", "sys-4"}


def test_every_job_has_its_window_and_impacts_its_booked_systems_and_their_dependents(
    generated,
):
    jobs = MaintenanceJob.objects.prefetch_related("systems", "impacted_systems", "occurrences")
    for job in jobs:
        booked = {s.slug for s in job.systems.all()}
        assert booked, job
        assert {s.slug for s in job.impacted_systems.all()} == impacted_systems(systems=booked)
        assert [(o.start, o.end) for o in job.occurrences.all()] == [(job.start, job.end)]
        assert job.team_id in {s.team_id for s in job.systems.all()}


def test_every_deadline_hits_some_systems(generated):
    assert not Deadline.objects.filter(systems__isnull=True).exists()


def test_blackouts_are_materialised_to_the_horizon_like_the_services_do(generated):
    until = horizon_end(now=at(1, 9))
    for blackout in Blackout.objects.prefetch_related("occurrences", "systems"):
        starts = [o.start for o in blackout.occurrences.all()]
        assert blackout.systems.exists()
        assert blackout.materialised_until == until
        if blackout.rrule:
            # Weekly in London time: 7 days apart, an hour more or less across DST.
            assert {b - a for a, b in itertools.pairwise(starts)} <= WEEKS
            assert until - timedelta(days=7) <= starts[-1] < until
        else:
            assert starts == [blackout.start]


def test_the_calendar_version_changes(clock):
    before = CalendarChange.objects.count()

    call_command("generate_dataset", "--scale", SCALE, stdout=io.StringIO())

    assert CalendarChange.objects.count() > before


def test_the_ci_endpoints_answer_on_the_generated_data(generated):
    approved = MaintenanceJob.objects.filter(status="approved").first()
    ci = bearer(token_for(approved.team))

    gate = ci.get(f"/api/v1/jobs/{approved.pk}/gate")
    state = ci.get("/api/v1/state?systems=sys-0,sys-5")
    checks = ci.post(
        "/api/v1/checks",
        {"systems": ["sys-0"], "start": "2030-12-20T08:00Z", "end": "2030-12-20T12:00Z"},
        format="json",
    )

    assert gate.status_code in (200, 423)
    assert (state.status_code, checks.status_code) == (200, 200)


def test_it_refuses_to_run_twice(generated):
    with pytest.raises(CommandError, match="already here"):
        call_command("generate_dataset", "--scale", SCALE, stdout=io.StringIO())

    assert System.objects.count() == 10


@pytest.mark.parametrize("scale", ["0", "-1", "11"])
def test_it_refuses_a_scale_out_of_range(db, scale):
    with pytest.raises(CommandError, match="--scale"):
        call_command("generate_dataset", "--scale", scale, stdout=io.StringIO())

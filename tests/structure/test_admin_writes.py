"""Admin saves go through the same services as the API, with the same side effects:
a blackout re-evaluates the jobs under it, a system's new dependency changes which
jobs impact it, a team's members are set, and invalid input is a field error."""

import pytest

from blackouts.models import Blackout
from scheduling.models import CalendarChange, System, Team
from tests import builders
from tests.builders import at

pytestmark = pytest.mark.django_db


def blackout_form(**overrides) -> dict:
    return {
        "title": "Exam boards",
        "reason": "",
        "team": Team.objects.get(slug="infra").pk,
        "systems": [System.objects.get(slug="grading-api").pk],
        "start_0": "2030-12-10",
        "start_1": "00:00:00",
        "end_0": "2030-12-11",
        "end_1": "00:00:00",
        "timezone": "UTC",
        "rrule": "",
        "exdates": "[]",
        "severity": "refuse",
        "occurrences-TOTAL_FORMS": "0",
        "occurrences-INITIAL_FORMS": "0",
        "occurrences-MIN_NUM_FORMS": "0",
        "occurrences-MAX_NUM_FORMS": "0",
        **overrides,
    }


def system_form(system: System, **overrides) -> dict:
    return {
        "slug": system.slug,
        "name": system.name,
        "team": system.team_id,
        "depends_on": list(system.depends_on.values_list("pk", flat=True)),
        "window_rrule": "",
        "window_start_time": "",
        "window_duration": "",
        "window_timezone": "",
        **overrides,
    }


def test_a_blackout_added_in_the_admin_refuses_the_job_under_it_as_the_api_would(
    frozen_now, grading_stack, admin_client, django_capture_on_commit_callbacks
):
    job = builders.job(systems=["grading-db"], start=at(10, 8))

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post("/admin/blackouts/blackout/add/", blackout_form())

    assert response.status_code == 302
    blackout = Blackout.objects.get()
    assert (blackout.created_by.username, blackout.occurrences.count()) == ("admin", 1)
    job.refresh_from_db()
    assert job.decision == "refuse"


def test_a_blackout_rule_the_service_refuses_is_a_field_error_in_the_admin(
    frozen_now, grading_stack, admin_client
):
    response = admin_client.post(
        "/admin/blackouts/blackout/add/", blackout_form(rrule="FREQ=SECONDLY")
    )

    assert response.status_code == 200
    assert "rrule" in response.context["adminform"].form.errors
    assert not Blackout.objects.exists()


def test_a_dependency_added_in_the_admin_makes_jobs_impact_the_dependent(
    frozen_now, grading_stack, admin_client
):
    reports = builders.system("reports")
    job = builders.job(systems=["grading-db"], start=at(10, 8))
    changes = CalendarChange.objects.count()
    grading_db = System.objects.get(slug="grading-db")

    response = admin_client.post(
        f"/admin/scheduling/system/{reports.pk}/change/",
        system_form(reports, depends_on=[grading_db.pk]),
    )

    assert response.status_code == 302
    assert "reports" in job.impacted_systems.values_list("slug", flat=True)
    assert CalendarChange.objects.count() > changes


def test_a_dependency_cycle_is_a_field_error_in_the_admin(frozen_now, grading_stack, admin_client):
    grading_db = System.objects.get(slug="grading-db")
    web = System.objects.get(slug="submissions-web")

    response = admin_client.post(
        f"/admin/scheduling/system/{grading_db.pk}/change/",
        system_form(grading_db, depends_on=[web.pk]),
    )

    assert response.status_code == 200
    assert "depends_on" in response.context["adminform"].form.errors
    assert not grading_db.depends_on.exists()


def test_a_team_saved_in_the_admin_gets_its_members(grading_stack, admin_client):
    ada = builders.user("ada")

    response = admin_client.post(
        "/admin/scheduling/team/add/",
        {
            "name": "Exams",
            "slug": "exams",
            "members": [ada.pk],
            "email_addresses": '["exams@example.org"]',
            "webhook_url": "",
            "webhook_format": "clearway",
        },
    )

    assert response.status_code == 302
    exams = Team.objects.get(slug="exams")
    assert list(exams.members.values_list("username", flat=True)) == ["ada"]
    assert exams.email_addresses == ["exams@example.org"]
    # As team_create does for the API: a signing secret exists (rotate to see one).
    assert exams.webhook_secret_created is not None

"""The admin's system form answers a dependency cycle or a bad window with a form error."""

import pytest

from scheduling.models import System
from tests.ui.conftest import client_for

pytestmark = pytest.mark.django_db


def system_form(system: System, **changes) -> dict:
    return {
        "slug": system.slug,
        "name": system.name,
        "team": system.team_id,
        "depends_on": [d.pk for d in system.depends_on.all()],
        "window_rrule": "",
        "window_start_time": "",
        "window_duration": "",
        "window_timezone": "",
        **changes,
    }


@pytest.fixture
def superuser(pat):
    pat.is_superuser = True
    pat.save(update_fields=["is_superuser"])
    return pat


def test_a_dependency_cycle_added_in_the_admin_is_a_form_error(superuser):
    database = System.objects.get(slug="grading-db")
    web = System.objects.get(slug="submissions-web")  # depends on grading-db through grading-api

    response = client_for(superuser).post(
        f"/admin/scheduling/system/{database.pk}/change/",
        system_form(database, depends_on=[web.pk]),
    )

    assert response.status_code == 200
    assert "Those dependencies make a cycle." in response.content.decode()
    assert not database.depends_on.exists()


def test_a_window_in_an_unoffered_zone_is_a_form_error(superuser):
    database = System.objects.get(slug="grading-db")

    response = client_for(superuser).post(
        f"/admin/scheduling/system/{database.pk}/change/",
        system_form(
            database,
            window_rrule="FREQ=WEEKLY;BYDAY=SU",
            window_start_time="02:00",
            window_duration="04:00:00",
            window_timezone="US/Eastern",
        ),
    )

    assert response.status_code == 200
    assert "Unknown time zone" in response.content.decode()
    database.refresh_from_db()
    assert database.window_rrule == ""


def test_a_valid_change_still_saves(superuser):
    api = System.objects.get(slug="grading-api")

    response = client_for(superuser).post(
        f"/admin/scheduling/system/{api.pk}/change/", system_form(api, name="Grading API")
    )

    assert response.status_code == 302
    api.refresh_from_db()
    assert api.name == "Grading API"


def test_a_cycle_added_while_renaming_the_system_is_a_form_error(superuser):
    database = System.objects.get(slug="grading-db")
    web = System.objects.get(slug="submissions-web")

    response = client_for(superuser).post(
        f"/admin/scheduling/system/{database.pk}/change/",
        system_form(database, slug="grading-db-main", depends_on=[web.pk]),
    )

    assert response.status_code == 200
    assert "Those dependencies make a cycle." in response.content.decode()
    database.refresh_from_db()
    assert database.slug == "grading-db" and not database.depends_on.exists()

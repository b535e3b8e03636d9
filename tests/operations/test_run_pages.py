"""Runs on the job page (with the "ask to stop" button) and in the calendar."""

import pytest
from django.test import Client

from operations.models import Run
from operations.services.runs import run_start
from tests.builders import at
from tests.workflow import approved_job

pytestmark = pytest.mark.django_db


def signed_in(person) -> Client:
    client = Client()
    client.force_login(person)
    return client


@pytest.fixture
def run(requester, reviewer, clock):
    job = approved_job(requester=requester, reviewer=reviewer)
    clock.move_to(at(10, 9))
    run, _ = run_start(job_id=job.pk, user=requester)
    return run


def test_the_job_page_lists_its_runs(run, requester):
    page = signed_in(requester).get(f"/jobs/{run.job_id}/")

    assert page.status_code == 200
    assert f'id="run-{run.pk}"' in page.text
    assert "Running" in page.text


def test_an_owner_of_an_impacted_system_sees_the_stop_button_and_it_asks_the_run(run, reviewer):
    client = signed_in(reviewer)
    page = client.get(f"/jobs/{run.job_id}/")

    answer = client.post(f"/jobs/{run.job_id}/runs/{run.pk}/stop/", {"reason": "Grade writes fail"})

    assert f"Ask run #{run.pk} to stop" in page.text
    assert answer.status_code == 302
    run.refresh_from_db()
    assert run.stop_reason == "Grade writes fail"


def test_an_outsider_sees_no_stop_button_and_cannot_ask(run, outsider):
    client = signed_in(outsider)
    page = client.get(f"/jobs/{run.job_id}/")

    client.post(f"/jobs/{run.job_id}/runs/{run.pk}/stop/", {"reason": "because"})

    assert f"Ask run #{run.pk} to stop" not in page.text
    assert Run.objects.get(pk=run.pk).stop_requested_at is None


def test_the_calendar_shows_the_runs_of_the_week(run, reviewer):
    page = signed_in(reviewer).get("/?date=2030-12-10")

    assert page.status_code == 200
    assert f"run #{run.pk}" in page.text


def test_the_calendar_of_another_system_leaves_the_run_out(run, reviewer):
    page = signed_in(reviewer).get("/?date=2030-12-10&system=reports-db")

    assert f"run #{run.pk}" not in page.text

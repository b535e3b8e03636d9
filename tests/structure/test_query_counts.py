"""Query-count baselines: the jobs API list, the calendar page and the review
inbox ask the database a fixed number of questions, however many jobs show.

If a change adds a query, update the baseline here on purpose (and say why).
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from scheduling.services.submission import maintenance_job_submit
from tests import builders
from tests.builders import at

pytestmark = pytest.mark.django_db

JOBS_API_LIST = 8
# The calendar reads each shown job's booked systems besides those it impacts,
# to say where a job reaching a system through a dependency is booked.
CALENDAR_PAGE = 17
REVIEW_INBOX = 10


@pytest.fixture
def people(frozen_now, grading_stack):
    requester = builders.user("rita", team=grading_stack["infra"])
    reviewer = builders.user("rob", team=grading_stack["grading"])
    return requester, reviewer


def book(requester, count: int, *, first_day: int = 10) -> None:
    """`count` submitted jobs on grading-db (impacting grading's systems), a day apart."""
    for n in range(count):
        job = builders.job(
            start=at(first_day + n, 8), end=at(first_day + n, 9), owner=requester.teams.get()
        )
        maintenance_job_submit(job_id=job.pk, by=requester)


def queries(client, path: str, **params) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, params)
    assert response.status_code == 200, response.content[:300]
    return len(captured)


def test_the_jobs_api_list_takes_a_fixed_number_of_queries(
    people, client, django_assert_num_queries
):
    requester, _ = people
    client.force_login(requester)
    book(requester, 2)
    few = queries(client, "/api/v1/jobs")
    book(requester, 4, first_day=14)

    with django_assert_num_queries(JOBS_API_LIST):
        response = client.get("/api/v1/jobs")

    assert len(response.json()["results"]) == 6
    assert few == JOBS_API_LIST


def test_the_calendar_page_takes_a_fixed_number_of_queries(
    people, client, django_assert_num_queries
):
    requester, _ = people
    client.force_login(requester)
    book(requester, 2)
    builders.deadline(due=at(12, 12), cohort_size=300, systems=["grading-api"])
    builders.blackout(systems=["grading-db"], start=at(20), end=at(21))
    few = queries(client, "/", view="month", date="2030-12-10")
    book(requester, 4, first_day=14)
    builders.deadline(due=at(22, 12), cohort_size=900, systems=["grading-api"])
    builders.blackout(systems=["grading-api"], start=at(24), end=at(25), title="Reports")

    with django_assert_num_queries(CALENDAR_PAGE):
        client.get("/", {"view": "month", "date": "2030-12-10"})

    assert few == CALENDAR_PAGE


def test_the_review_inbox_takes_a_fixed_number_of_queries(
    people, client, django_assert_num_queries
):
    requester, reviewer = people
    client.force_login(reviewer)
    book(requester, 2)
    few = queries(client, "/reviews/")
    book(requester, 4, first_day=14)

    with django_assert_num_queries(REVIEW_INBOX):
        response = client.get("/reviews/")

    assert response.content.decode().count("/jobs/") >= 6
    assert few == REVIEW_INBOX

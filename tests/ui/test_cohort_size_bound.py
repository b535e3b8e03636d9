"""The web forms share the API's cohort-size bound: a field error, never a 500.

3,000,000,000 students passed the deadline form (it had no upper bound) and
was a 500 on PostgreSQL, whose integer column cannot hold it.
"""

import pytest

from deadlines.limits import COHORT_SIZE_MAX
from deadlines.models import Deadline, DeadlineFeed
from tests.ui.conftest import client_for
from tests.ui.test_calendar_admin_pages import deadline_post
from tests.ui.test_pages import error_next_to

pytestmark = pytest.mark.django_db

THREE_BILLION = "3000000000"


def test_the_deadline_form_answers_a_field_error_for_three_billion_students(carol):
    response = client_for(carol).post("/deadlines/new/", deadline_post(cohort_size=THREE_BILLION))

    assert response.status_code == 400
    assert f"{COHORT_SIZE_MAX:,}" in error_next_to(response.content.decode(), "cohort_size")
    assert not Deadline.objects.exists()


def test_the_deadline_form_accepts_the_bound_itself(carol):
    response = client_for(carol).post(
        "/deadlines/new/", deadline_post(cohort_size=str(COHORT_SIZE_MAX))
    )

    assert response.status_code == 302
    assert Deadline.objects.get().cohort_size == COHORT_SIZE_MAX


def test_the_feed_form_answers_a_field_error_for_three_billion_students(carol):
    response = client_for(carol).post(
        "/deadlines/feeds/new/",
        {
            "url": "https://lms.example.org/x.ics",
            "format": "ics",
            "team": "curriculum",
            "cohort_size": THREE_BILLION,
            "interval": "60",
            "enabled": "on",
        },
    )

    assert response.status_code == 400
    assert error_next_to(response.content.decode(), "cohort_size")
    assert not DeadlineFeed.objects.exists()

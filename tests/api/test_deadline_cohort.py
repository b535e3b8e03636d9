"""A deadline's cohort through the API: a blank cohort is "No named cohort", as on the page."""

import pytest

from deadlines.models import Deadline
from deadlines.services import cohort_save
from tests.personas import as_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def year_two(org):
    return cohort_save(name="Y2", size=500, team=org["curriculum"])


@pytest.fixture
def deadline_of_year_two(curriculum_staff, year_two) -> int:
    created = as_user(curriculum_staff).post(
        "/api/v1/deadlines",
        {
            "team": "curriculum",
            "title": "Project 1",
            "cohort": "Y2",
            "due": "2030-12-12T23:59:00Z",
            "systems": ["grading-api"],
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    return created.json()["id"]


def test_patching_a_blank_cohort_unlinks_the_deadline_from_its_cohort(
    curriculum_staff, deadline_of_year_two
):
    answer = as_user(curriculum_staff).patch(
        f"/api/v1/deadlines/{deadline_of_year_two}",
        {"cohort": "", "cohort_size": 30},
        format="json",
    )

    assert answer.status_code == 200, answer.json()
    assert (answer.json()["cohort"], answer.json()["cohort_size"]) == ("", 30)
    assert Deadline.objects.get(pk=deadline_of_year_two).cohort is None


def test_resizing_the_former_cohort_leaves_a_deadline_unlinked_by_patch_alone(
    org, curriculum_staff, year_two, deadline_of_year_two
):
    as_user(curriculum_staff).patch(
        f"/api/v1/deadlines/{deadline_of_year_two}",
        {"cohort": "", "cohort_size": 30},
        format="json",
    )

    cohort_save(name="Y2", size=900, team=org["curriculum"], cohort=year_two)

    assert Deadline.objects.get(pk=deadline_of_year_two).cohort_size == 30

"""One cohort-size bound (deadlines.limits.COHORT_SIZE_MAX) for services, API and the column."""

from datetime import timedelta

import pytest
from django.db import IntegrityError
from django.db.backends.base.operations import BaseDatabaseOperations
from django.utils import timezone

from deadlines.limits import COHORT_SIZE_MAX
from deadlines.models import Deadline
from deadlines.services import deadline_create
from scheduling.errors import InvalidInput
from tests import builders
from tests.personas import as_user


def test_the_bound_fits_inside_the_database_column():
    _, column_max = BaseDatabaseOperations.integer_field_ranges["PositiveIntegerField"]

    assert 1 < COHORT_SIZE_MAX <= column_max


@pytest.mark.django_db
def test_the_service_refuses_a_size_past_the_bound(grading_stack):
    with pytest.raises(InvalidInput) as refused:
        deadline_create(
            team=builders.team("curriculum"),
            title="Essay",
            cohort_size=COHORT_SIZE_MAX + 1,
            due=timezone.now() + timedelta(days=3),
            systems=["grading-api"],
        )

    assert "cohort_size" in refused.value.fields


@pytest.mark.django_db
def test_the_column_itself_refuses_a_size_past_the_bound(grading_stack):
    deadline = builders.deadline(cohort_size=10)

    with pytest.raises(IntegrityError):
        Deadline.objects.filter(pk=deadline.pk).update(cohort_size=COHORT_SIZE_MAX + 1)


@pytest.mark.django_db
def test_the_api_answers_a_field_error_past_the_bound(grading_stack):
    curriculum = builders.team("curriculum")
    staff = builders.user(team=curriculum)

    response = as_user(staff).post(
        "/api/v1/deadlines",
        {
            "title": "Essay",
            "team": "curriculum",
            "cohort_size": 3_000_000_000,
            "due": (timezone.now() + timedelta(days=3)).isoformat(),
            "systems": ["grading-api"],
        },
        format="json",
    )

    assert response.status_code == 400
    assert "cohort_size" in response.json()["errors"]

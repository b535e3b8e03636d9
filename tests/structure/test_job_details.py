"""One queryset (selectors.jobs_with_details) reads a job for its page and its API answer."""

import pytest

from scheduling.selectors import jobs_with_details
from tests import builders

pytestmark = pytest.mark.django_db


def test_a_job_with_its_reviews_and_history_is_read_in_five_queries(
    grading_stack, django_assert_num_queries
):
    job = builders.job()

    with django_assert_num_queries(5):  # job + team + author, systems, impacted, reviews, history
        found = jobs_with_details().get(pk=job.pk)
        shown = (
            found.team.slug,
            [s.slug for s in found.systems.all()],
            [s.slug for s in found.impacted_systems.all()],
            [(r.team.slug, r.decided_by) for r in found.reviews.all()],
            [(e.action, e.actor) for e in found.history.all()],
        )

    assert shown[1] == ["grading-db"]

"""The "My jobs" page's status filter: a value that is not a status filters nothing.

A hand-edited `?status=` (or a NUL byte, which PostgreSQL cannot compare: a
500 there) used to empty the list or fail; it lists the team's jobs instead.
"""

import pytest

from tests import builders
from tests.ui.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("status", ["bogus", "\x00"], ids=["unknown", "nul"])
def test_a_status_that_is_not_one_lists_every_job_of_the_team(alice, status):
    job = builders.job(by=alice, owner=alice.teams.get(), title="Reindex")

    response = client_for(alice).get("/jobs/", {"status": status})

    assert response.status_code == 200
    assert f'href="/jobs/{job.pk}/"' in response.content.decode()


def test_a_known_status_still_filters(alice):
    builders.job(by=alice, owner=alice.teams.get(), title="Reindex")

    response = client_for(alice).get("/jobs/", {"status": "approved"})

    assert "No jobs yet" in response.content.decode()

"""The calendar's system and team filters: a value naming nothing shows everything.

A stale bookmark (a renamed system, a deleted team) or a NUL byte, which
PostgreSQL cannot compare (a 500 there, from the runs shown on the page),
is treated as "All", which is what the filter's select then shows.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests import builders
from tests.ui.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("param", ["system", "team"])
@pytest.mark.parametrize("value", ["retired-name", "\x00"], ids=["unknown", "nul"])
def test_a_filter_naming_nothing_shows_every_booking(alice, param, value):
    start = (timezone.now() + timedelta(days=1)).replace(hour=9, minute=0, second=0)
    builders.job(by=alice, owner=alice.teams.get(), title="Reindex", start=start)

    response = client_for(alice).get("/", {param: value, "date": start.date().isoformat()})

    assert response.status_code == 200
    assert "Reindex" in response.content.decode()

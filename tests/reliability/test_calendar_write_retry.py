"""Every calendar write is retried as a whole after a deadlock, as job writes are.

Two calendar writes rewrite overlapping rows of the stored timeline (a blackout
on every system, a job deleted on one); PostgreSQL may pick either as the
deadlock victim. The victim used to answer 503; now it runs again and its
change is stored once.
"""

import pytest

from blackouts.models import Blackout
from deadlines.models import Deadline
from scheduling import tasks
from scheduling.services import calendar
from tests import builders
from tests.builders import at
from tests.db_errors import deadlock

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def first_refresh_deadlocks(monkeypatch):
    """The first timeline rewrite of the write is chosen as the deadlock victim."""
    failures = [deadlock()]
    real = calendar.timeline_refresh_range

    def failing_first(**kwargs):
        real(**kwargs)
        if failures:
            raise failures.pop()

    monkeypatch.setattr(calendar, "timeline_refresh_range", failing_first)
    return failures


def test_a_blackout_hit_by_a_deadlock_is_retried_and_stored_once(first_refresh_deadlocks):
    builders.blackout(systems=["grading-api"], start=at(20))

    assert not first_refresh_deadlocks, "the deadlock was raised"
    assert Blackout.objects.count() == 1


def test_a_deadline_hit_by_a_deadlock_is_retried_and_stored_once(first_refresh_deadlocks):
    builders.deadline(systems=["grading-api"])

    assert not first_refresh_deadlocks, "the deadlock was raised"
    assert Deadline.objects.count() == 1


def test_the_daily_horizon_roll_hit_by_a_deadlock_is_retried_whole(monkeypatch):
    failures = [deadlock()]
    rolled = []
    real = tasks.freezes_refresh_horizon

    def failing_first(**kwargs):
        real(**kwargs)
        rolled.append(kwargs["now"])
        if failures:
            raise failures.pop()

    monkeypatch.setattr(tasks, "freezes_refresh_horizon", failing_first)

    tasks.refresh_horizon()

    assert not failures, "the deadlock was raised"
    assert len(rolled) == 2

"""The sampler's claims: a round slowed by unreachable databases keeps each lease whole.

No PostgreSQL here: each sample is replaced by one that takes 20 s of the
(stopped) clock, as a database that lets the connect timeout run out does.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from operations.models import DatabaseMonitor
from operations.services import watch
from operations.services.monitors import encrypt
from scheduling.models import System
from tests.builders import system

pytestmark = pytest.mark.django_db


@pytest.fixture
def monitors(org):
    system("exams-db", owner=org["infra"])
    return {
        f"postgresql://monitor@127.0.0.1:{port}/grading": DatabaseMonitor.objects.create(
            system=System.objects.get(slug=slug),
            dsn_encrypted=encrypt(f"postgresql://monitor@127.0.0.1:{port}/grading"),
            database="grading",
        )
        for port, slug in ((9, "grading-db"), (10, "reports-db"), (11, "exams-db"))
    }


def test_a_monitor_sampled_late_in_a_slow_round_is_not_due_again_while_it_is_sampled(
    monitors, clock, monkeypatch, settings
):
    settings.CLEARWAY_WATCH_INTERVAL = 30
    due_again_while_sampled = []

    def slow_sample(dsn):
        clock.shift(timedelta(seconds=20))
        # Would another worker's round claim this database now, a second connection?
        monitor = DatabaseMonitor.objects.get(pk=monitors[dsn].pk)
        due_again_while_sampled.append(monitor.next_sample_at <= timezone.now())
        raise OSError("timeout expired")

    monkeypatch.setattr(watch, "sample_database", slow_sample)

    assert watch.monitors_sample_due() == 3
    assert due_again_while_sampled == [False, False, False]

"""The gap query behind slots: gaps that fit only before alignment, and paging past them.

The clock starts at 2030-12-01 09:00 UTC (tests.personas.clock).
"""

from datetime import timedelta

import pytest

from scheduling import conflicts
from scheduling.timeline import gaps
from tests import builders
from tests.builders import at

pytestmark = pytest.mark.django_db


def near_misses(*, count: int) -> None:
    """`count` gaps of 4h05m on grading-db, each opening at :50 (so a 4-hour slot
    rounded up to the quarter hour does not fit), then nothing flagged."""
    for n in range(count):
        start = at(10) + timedelta(hours=6 * n)
        builders.blackout(
            systems=["grading-db"], start=start, end=start + timedelta(minutes=110), severity="flag"
        )
        builders.blackout(
            systems=["grading-db"],
            start=start + timedelta(minutes=355),
            end=start + timedelta(hours=6),
            severity="flag",
        )


def slots(**overrides):
    asked = dict(
        systems=["grading-db"],
        duration=timedelta(hours=4),
        impact="exclusive_lock",
        after=at(10),
        before=at(20),
        limit=3,
    )
    return [(s.start, s.end) for s in conflicts.next_clear(**(asked | overrides))]


def test_gaps_too_short_once_aligned_are_read_past_until_enough_fit(clock, settings):
    near_misses(count=8)

    found = slots()

    assert found[0][0] == at(12)
    settings.CLEARWAY_TIMELINE = False
    assert found == slots()


def test_unaligned_slots_take_the_near_misses_as_they_are(clock, settings):
    near_misses(count=8)

    found = slots(align=None)

    assert found[0] == (at(10, 1, 50), at(10, 5, 50))
    settings.CLEARWAY_TIMELINE = False
    assert found == slots(align=None)


def test_the_gap_query_stops_at_the_number_asked_for(clock):
    near_misses(count=8)

    found = gaps.gaps(
        where=frozenset({"grading-db"}),
        impact="exclusive_lock",
        thresholds=conflicts.thresholds(),
        start=at(10),
        end=at(20),
        longer_than=timedelta(hours=4),
        count=2,
    )

    assert found == [(at(10, 1, 50), at(10, 5, 55)), (at(10, 7, 50), at(10, 11, 55))]

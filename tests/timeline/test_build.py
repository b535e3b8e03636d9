"""The pure parts of the timeline: the traffic step function and slots before an instant."""

from datetime import UTC, datetime, timedelta

from scheduling.engine import BusyWindow, slots_before
from scheduling.timeline.build import traffic_steps


def at(hour: int) -> datetime:
    return datetime(2030, 12, 1, tzinfo=UTC) + timedelta(hours=hour)


def deadline(source: str, start: int, end: int, load: int, systems=("grading-api",)):
    return BusyWindow(
        kind="deadline",
        start=at(start),
        end=at(end),
        systems=frozenset(systems),
        title=source,
        source=source,
        load=load,
    )


def test_steps_sum_the_cohorts_and_split_where_the_set_of_deadlines_changes():
    windows = [deadline("deadline:1", 0, 10, 300), deadline("deadline:2", 5, 15, 800)]

    steps = traffic_steps(windows, system="grading-api", start=at(0), end=at(24))

    assert [(s.start, s.end, s.load) for s in steps] == [
        (at(0), at(5), 300),
        (at(5), at(10), 1100),
        (at(10), at(15), 800),
    ]


def test_a_deadline_ending_as_another_of_the_same_size_starts_is_still_a_new_step():
    windows = [deadline("deadline:1", 0, 5, 300), deadline("deadline:2", 5, 9, 300)]

    steps = traffic_steps(windows, system="grading-api", start=at(0), end=at(24))

    assert [(s.start, s.end, s.load) for s in steps] == [(at(0), at(5), 300), (at(5), at(9), 300)]


def test_steps_leave_out_other_systems_deadlines():
    windows = [deadline("deadline:1", 0, 5, 300, systems=("grading-db",))]

    assert traffic_steps(windows, system="grading-api", start=at(0), end=at(24)) == []


def test_slots_before_an_instant_are_the_latest_first_and_end_by_it():
    blocked = [(at(8), at(20)), (at(32), at(44))]

    found = slots_before(blocked, after=at(0), before=at(40), duration=timedelta(hours=4), limit=3)

    # One per gap first (28:00 and 04:00), then another in the latest gap; latest first.
    assert [(s.start, s.end) for s in found] == [
        (at(28), at(32)),
        (at(24), at(28)),
        (at(4), at(8)),
    ]

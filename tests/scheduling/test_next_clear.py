"""conflicts.next_clear: the next clear windows, each one clear when evaluated on its own."""

from datetime import time, timedelta

from scheduling import conflicts
from scheduling.models import MaintenanceJob
from scheduling.services.calendar import calendar_change_record
from scheduling.services.freeze import freeze_set
from scheduling.timeline.services import timeline_refresh_job
from tests import builders
from tests.builders import at

FOUR_HOURS = timedelta(hours=4)


def set_status(job, status: str) -> None:
    """Move a job straight to `status`, recording the change as the workflow would."""
    MaintenanceJob.objects.filter(pk=job.pk).update(status=status)
    # Set past the services, so the stored timeline is told as they would tell it.
    timeline_refresh_job(job_id=job.pk)
    calendar_change_record(reason=f"job #{job.pk} -> {status} (test)")


def slots(systems=("grading-db",), *, duration=FOUR_HOURS, after=None, before=None, **kwargs):
    kwargs.setdefault("impact", "exclusive_lock")
    return conflicts.next_clear(
        systems=list(systems),
        duration=duration,
        after=after or at(2),
        before=before or at(20),
        **kwargs,
    )


def assert_each_is_clear(found, systems=("grading-db",), impact="exclusive_lock"):
    for slot in found:
        evaluation = conflicts.evaluate(
            systems=list(systems), start=slot.start, end=slot.end, impact=impact
        )
        assert (slot, evaluation.decision, evaluation.findings) == (slot, "clear", [])


def test_slots_come_earliest_first_and_each_one_evaluates_clear(frozen_now, grading_stack):
    builders.blackout(systems=[], start=at(2), end=at(3))
    builders.blackout(systems=["grading-api"], start=at(4), end=at(5), severity="flag")
    builders.deadline(due=at(7), cohort_size=2000, systems=["submissions-web"])
    builders.blackout(systems=["grading-db"], start=at(8), end=at(9))
    builders.blackout(systems=["submissions-web"], start=at(10), end=at(11))

    found = slots(limit=4)

    assert [s.start for s in found] == [at(3), at(7, 6), at(9), at(11)]
    assert all(s.end - s.start == FOUR_HOURS for s in found)
    assert_each_is_clear(found)


def test_first_slot_starts_when_a_blackout_ends(frozen_now, grading_stack):
    builders.blackout(systems=[], start=at(1), end=at(3, 9))

    found = slots(limit=1)

    assert [(s.start, s.end) for s in found] == [(at(3, 9), at(3, 13))]


def test_slots_skip_a_blackout_on_a_dependent(frozen_now, grading_stack):
    builders.blackout(systems=["submissions-web"], start=at(1), end=at(4))

    found = slots(limit=1)

    assert found[0].start == at(4)


def test_slots_skip_a_traffic_peak(frozen_now, grading_stack):
    # Project 3's window is [5 00:00, 7 06:00); two hours before it is too short.
    builders.deadline(due=at(7), cohort_size=2000, systems=["grading-api"])

    found = slots(after=at(4, 22), limit=1)

    assert found[0].start == at(7, 6)
    assert_each_is_clear(found)


def test_slots_ignore_traffic_under_the_flag_threshold(frozen_now, grading_stack):
    builders.deadline(due=at(7), cohort_size=150, systems=["grading-api"])

    assert slots(after=at(5), limit=1)[0].start == at(5)


def test_slots_for_work_without_impact_ignore_traffic(frozen_now, grading_stack):
    builders.deadline(due=at(7), cohort_size=2000, systems=["grading-api"])

    assert slots(after=at(5), impact="none", limit=1)[0].start == at(5)


def test_slots_skip_booked_jobs_but_not_drafts(frozen_now, grading_stack):
    booked = builders.job(systems=["grading-db"], start=at(2), end=at(2, 10))
    set_status(booked, "pending")
    builders.job(systems=["grading-db"], start=at(2, 10), end=at(2, 20))

    assert slots(limit=1)[0].start == at(2, 10)


def test_slots_can_leave_out_the_job_being_moved(frozen_now, grading_stack):
    booked = builders.job(systems=["grading-db"], start=at(2), end=at(2, 10))
    set_status(booked, "approved")

    assert slots(limit=1, exclude_job=booked.pk)[0].start == at(2)


def test_slots_respect_the_allowed_maintenance_window(frozen_now, grading_stack):
    builders.system(
        "auth",
        window_rrule="FREQ=WEEKLY;BYDAY=SU",
        window_start_time=time(2),
        window_duration=timedelta(hours=4),
        window_timezone="Africa/Lagos",
    )

    found = slots(["auth"], after=at(2), before=at(23), limit=3)

    # Sundays 02:00-06:00 Lagos are 01:00-05:00 UTC; the 4-hour job fills each.
    assert [(s.start, s.end) for s in found] == [
        (at(8, 1), at(8, 5)),
        (at(15, 1), at(15, 5)),
        (at(22, 1), at(22, 5)),
    ]
    assert_each_is_clear(found, systems=["auth"])


def test_no_slot_when_the_job_is_longer_than_the_allowed_window(frozen_now, grading_stack):
    builders.system(
        "auth",
        window_rrule="FREQ=WEEKLY;BYDAY=SU",
        window_start_time=time(2),
        window_duration=timedelta(hours=4),
        window_timezone="Africa/Lagos",
    )

    assert slots(["auth"], duration=timedelta(hours=5), before=at(31)) == []


def test_no_slot_under_a_freeze(frozen_now, grading_stack):
    freeze_set(active=True, reason="Results week", by=None)

    assert slots(limit=3) == []


def test_limit_is_honoured(frozen_now, grading_stack):
    for day in range(2, 19):
        builders.blackout(systems=[], start=at(day, 6), end=at(day + 1), title=f"Day {day}")

    found = slots(limit=2)

    assert [s.start for s in found] == [at(2), at(3)]


def test_without_before_slots_are_searched_up_to_the_horizon(frozen_now, grading_stack, settings):
    settings.CLEARWAY_HORIZON_DAYS = 10
    builders.blackout(systems=[], start=at(1), end=at(11, 20))

    found = conflicts.next_clear(
        systems=["grading-db"], duration=FOUR_HOURS, impact="none", after=at(1), limit=1
    )

    assert found == []

import pytest
from django_q.models import Schedule

pytestmark = pytest.mark.django_db


def test_jobs_held_by_a_passed_window_are_swept_every_15_minutes():
    schedule = Schedule.objects.get(name="clearway: jobs held by a passed window")

    assert (schedule.func, schedule.schedule_type, schedule.minutes, schedule.repeats) == (
        "scheduling.tasks.reevaluate_passed",
        Schedule.MINUTES,
        15,
        -1,
    )

"""Scheduled freezes in the stored timeline: each write leaves it equal to a rebuild."""

import pytest
from django.core.management import call_command

from scheduling.engine import FAR_FUTURE
from scheduling.models import TimelineInterval, TimelineKind
from tests.builders import at
from tests.personas import as_user

pytestmark = pytest.mark.django_db


def freeze_rows() -> list[tuple]:
    return list(
        TimelineInterval.objects.filter(kind=TimelineKind.FREEZE)
        .order_by("start", "origin__slug")
        .values_list("start", "end", "origin__slug")
    )


def test_a_recurring_freeze_on_one_system_is_stored_per_occurrence(org, admin):
    answer = as_user(admin).post(
        "/api/v1/freezes",
        {
            "reason": "Exam mornings",
            "start": "2030-12-09T08:00:00Z",
            "end": "2030-12-09T12:00:00Z",
            "rrule": "FREQ=DAILY;COUNT=3",
            "systems": ["grading-api"],
        },
        format="json",
    )

    assert answer.status_code == 201, answer.json()
    assert freeze_rows() == [
        (at(9, 8), at(9, 12), "grading-api"),
        (at(10, 8), at(10, 12), "grading-api"),
        (at(11, 8), at(11, 12), "grading-api"),
    ]
    call_command("rebuild_timeline", "--check")


def test_the_switch_on_and_off_and_a_call_off_keep_the_timeline_a_rebuild(org, admin, clock):
    staff = as_user(admin)
    staff.put("/api/v1/freeze", {"active": True, "reason": "Audit"}, format="json")
    assert freeze_rows()[0][:2] == (at(1, 9), FAR_FUTURE)
    clock.move_to(at(1, 12))
    staff.put("/api/v1/freeze", {"active": False}, format="json")
    scheduled = staff.post(
        "/api/v1/freezes",
        {"reason": "Open day", "start": "2030-12-05T00:00:00Z", "end": "2030-12-06T00:00:00Z"},
        format="json",
    ).json()
    staff.delete(f"/api/v1/freezes/{scheduled['id']}")

    assert freeze_rows() == [(at(1, 9), at(1, 12), None)]
    call_command("rebuild_timeline", "--check")

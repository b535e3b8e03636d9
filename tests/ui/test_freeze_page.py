"""The freeze page: administrators schedule freezes in a named zone and call them off."""

from datetime import UTC, datetime

import pytest

from scheduling.models import Freeze
from tests.ui.conftest import client_for

pytestmark = pytest.mark.django_db


def schedule(person, **fields):
    body = {
        "reason": "Exam season",
        "start": "2031-03-28T09:00",
        "end": "2031-03-28T17:00",
        "timezone": "Europe/London",
        "rrule": "FREQ=DAILY;COUNT=5",
        **fields,
    }
    prefixed = {f"schedule-{name}": value for name, value in body.items()}
    return client_for(person).post("/freeze/", {"form": "schedule", **prefixed})


def test_an_administrator_schedules_a_freeze_in_wall_clock_time(pat):
    answer = schedule(pat)

    assert answer.status_code == 302
    freeze = Freeze.objects.get()
    assert (freeze.start, freeze.end, freeze.rrule) == (
        datetime(2031, 3, 28, 9, tzinfo=UTC),
        datetime(2031, 3, 28, 17, tzinfo=UTC),
        "FREQ=DAILY;COUNT=5",
    )
    assert "Exam season" in client_for(pat).get("/freeze/").content.decode()


def test_a_bad_rule_is_shown_next_to_the_form(pat):
    answer = schedule(pat, rrule="FREQ=SOMETIMES")

    assert answer.status_code == 400
    assert not Freeze.objects.exists()


def test_only_administrators_schedule_a_freeze(alice):
    assert schedule(alice).status_code == 403


def test_calling_off_from_the_page_keeps_the_row(pat):
    schedule(pat)
    freeze = Freeze.objects.get()

    client_for(pat).post(f"/freeze/{freeze.pk}/call-off/")

    freeze.refresh_from_db()
    assert freeze.cancelled_by == pat
    assert "called off by pat" in client_for(pat).get("/freeze/").content.decode()

"""The freeze page: administrators schedule freezes in a named zone and call them off."""

from datetime import UTC, datetime

import pytest

from scheduling.models import Freeze
from tests.ui.conftest import client_for
from tests.ui.test_pages import error_next_to

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


def test_a_start_the_clocks_skip_is_shown_next_to_start(pat):
    answer = schedule(pat, start="2031-03-30T01:30", end="2031-03-30T04:00", rrule="")

    assert answer.status_code == 400
    html = answer.content.decode()
    error = error_next_to(html, "schedule-start")
    assert "01:30 on Sun 30 Mar 2031 does not exist in Europe/London" in error
    assert 'value="2031-03-30T01:30"' in html
    assert not Freeze.objects.exists()


def test_a_repeated_start_offers_both_offsets_to_choose_from(pat):
    answer = schedule(pat, start="2031-10-26T01:30", end="2031-10-26T04:00", rrule="")

    assert answer.status_code == 400
    html = answer.content.decode()
    assert "happens twice in Europe/London" in error_next_to(html, "schedule-start")
    assert 'name="schedule-start_fold" value="0"' in html
    assert 'name="schedule-start_fold" value="1"' in html
    assert not Freeze.objects.exists()


def test_choosing_the_second_repeated_start_schedules_it(pat):
    answer = schedule(
        pat, start="2031-10-26T01:30", end="2031-10-26T04:00", rrule="", start_fold="1"
    )

    assert answer.status_code == 302
    assert Freeze.objects.get().start == datetime(2031, 10, 26, 1, 30, tzinfo=UTC)  # GMT


@pytest.mark.parametrize(
    "start, zone",
    [("2999-12-31T23:00", "America/Los_Angeles"), ("1970-01-01T00:00", "Asia/Tokyo")],
    ids=["year-3000-in-utc", "1969-in-utc"],
)
def test_a_start_outside_1970_to_2999_is_shown_next_to_start(pat, start, zone):
    answer = schedule(pat, start=start, end="", timezone=zone, rrule="")

    assert answer.status_code == 400
    html = answer.content.decode()
    assert "between 1970 and 2999" in error_next_to(html, "schedule-start")
    assert f'value="{start}"' in html
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

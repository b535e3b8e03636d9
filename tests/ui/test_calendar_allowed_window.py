"""The calendar of a system with an allowed maintenance window marks the time
outside it, which /checks refuses (kind outside_window): the calendar and the
engine never disagree. billing-db allows maintenance on Sundays 02:00-06:00 UTC.
The shown week runs from Monday 9 to Sunday 15 December 2030."""

import re
from datetime import datetime, time, timedelta

import pytest
from rest_framework.test import APIClient

from tests import builders
from tests.ui.conftest import client_for

pytestmark = pytest.mark.django_db

MONDAY, SUNDAY = "2030-12-09", "2030-12-15"
REFUSED = "\u2716 Outside the allowed window"


def sundays_from(hour: int) -> dict:
    """An allowed window of four hours on Sundays, from `hour` UTC."""
    return {
        "window_rrule": "FREQ=WEEKLY;BYDAY=SU",
        "window_start_time": time(hour),
        "window_duration": timedelta(hours=4),
        "window_timezone": "UTC",
    }


@pytest.fixture
def billing_db(frozen_now, org):
    return builders.system("billing-db", owner=org["infra"], **sundays_from(2))


def page(person, **params) -> str:
    return client_for(person).get("/", {"date": "2030-12-10", **params}).content.decode()


def outside_hours(html: str) -> dict[str, bool]:
    """Each hour of the week's traffic strips, by its start: outside an allowed window?"""
    return {
        re.search(r'data-start="([^"]+)"', tag).group(1): " data-outside" in tag
        for tag in re.findall(r'<li class="hour[^>]*>', html)
    }


def text(fragment: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", "", fragment).split())


def day_notes(html: str) -> list[str]:
    """The allowed-window note of each day of the week, Monday first ("" for none)."""
    notes = []
    for day in html.split('<li class="day')[1:]:
        note = re.search(r'<p class="window-note">(.*?)</p>', day, re.S)
        notes.append(text(note.group(1)) if note else "")
    return notes


def test_a_systems_week_marks_every_hour_outside_its_allowed_window(billing_db, alice):
    hours = outside_hours(page(alice, system="billing-db"))

    allowed = [start for start, outside in hours.items() if not outside]
    assert len(hours) == 7 * 24
    assert allowed == [f"{SUNDAY}T0{h}:00:00+00:00" for h in range(2, 6)]


def test_each_hour_marked_outside_is_one_checks_refuse_as_outside_the_window(billing_db, alice):
    api = APIClient()
    api.force_authenticate(alice)
    hours = outside_hours(page(alice, system="billing-db"))

    assert len(hours) == 7 * 24
    for start, outside in list(hours.items())[-26:]:  # Saturday night to Sunday's end
        begin = datetime.fromisoformat(start)
        check = api.post(
            "/api/v1/checks",
            {
                "systems": ["billing-db"],
                "start": begin.isoformat(),
                "end": (begin + timedelta(hours=1)).isoformat(),
            },
            format="json",
        ).json()
        kinds = {finding["kind"] for finding in check["findings"]}
        assert ("outside_window" in kinds) == outside, start


def test_a_day_says_when_its_system_allows_maintenance(billing_db, alice):
    monday, *_, sunday = day_notes(page(alice, system="billing-db"))

    assert monday == f"{REFUSED} of billing-db all day: refuses change"
    assert sunday == f"{REFUSED} of billing-db except 02:00\u201306:00: refuses change"


def test_a_systems_month_says_on_each_day_whether_it_allows_maintenance(billing_db, alice):
    html = page(alice, view="month", system="billing-db")
    month = html[html.index('<table class="month">') : html.index("</table>")]

    notes = [text(note) for note in re.findall(r'<p class="window-note">(.*?)</p>', month)]

    assert len(notes) == 6 * 7  # 25 November 2030 to 5 January 2031
    assert notes.count("\u2716 Outside window of billing-db all day: refuses change") == 6 * 6
    assert (
        notes.count("\u2716 Outside window of billing-db except 02:00\u201306:00: refuses change")
        == 6
    )


def test_a_systems_calendar_marks_the_time_outside_a_dependents_window(billing_db, alice, org):
    """Work on billing-db takes billing-api down too, so it must fit billing-api's window."""
    builders.system(
        "billing-api", owner=org["grading"], depends_on=["billing-db"], **sundays_from(4)
    )

    *_, sunday = day_notes(page(alice, system="billing-db"))

    assert sunday == (
        f"{REFUSED} of billing-api, billing-db except 04:00\u201306:00: refuses change"
    )


def test_a_teams_calendar_marks_the_time_outside_its_systems_windows(billing_db, alice):
    hours = outside_hours(page(alice, team="infra-dba"))

    assert hours[f"{MONDAY}T12:00:00+00:00"]


def test_the_whole_calendar_marks_no_window(billing_db, alice):
    """Unfiltered, some system is nearly always outside its window: that says nothing."""
    html = page(alice)

    assert " data-outside" not in html
    assert 'class="window-note"' not in html


def test_the_legend_names_the_time_outside_an_allowed_window(billing_db, alice):
    html = page(alice, system="billing-db")

    assert '<span class="chip chip-outside">Outside the allowed window' in html


def test_a_systems_timeline_row_shades_the_time_outside_its_window(billing_db, alice):
    html = page(alice, view="timeline", date="2030-12-08")

    rows = {
        re.search(r'href="/systems/([^/]+)/"', row).group(1): row
        for row in re.findall(r'<section class="track-row">(.*?)</section>', html, re.S)
    }
    assert 'class="outside-bar"' in rows["billing-db"]
    assert 'class="outside-bar"' not in rows["grading-db"]

"""A job shown on the calendar of a system it is not booked on says where it is
booked, as the feeds do: maintenance on grading-db takes grading-api (which
depends on it) down too, so grading-api's calendar shows it "via grading-db"."""

import re

import pytest

from tests.builders import at
from tests.ui.conftest import client_for
from tests.workflow import pending_job

pytestmark = pytest.mark.django_db


def via(html: str, title: str) -> list[str]:
    """What the calendar entries titled `title` say they are via ("" for none)."""
    found = re.findall(r'<li class="item item-maintenance [^"]*">(.*?)</li>', html, re.S)
    return [
        (re.findall(r'<span class="item-via">(.*?)</span>', body) or [""])[0]
        for body in found
        if title in body
    ]


def week_of(client, system: str) -> str:
    return client.get("/", {"date": "2030-12-10", "system": system}).content.decode()


def test_a_job_on_a_system_depended_on_says_where_it_is_booked(frozen_now, alice, org):
    pending_job(requester=alice, owner=org["infra"], title="Reindex", start=at(10, 8))

    shown = via(week_of(client_for(alice), "grading-api"), "Reindex")

    assert shown == ["via grading-db"]


def test_a_job_on_a_dependent_system_says_only_where_it_is_booked(frozen_now, alice, org):
    pending_job(
        requester=alice,
        owner=org["infra"],
        title="Restart",
        systems=("grading-api",),
        start=at(10, 8),
    )

    shown = via(week_of(client_for(alice), "grading-db"), "Restart")

    assert shown == ["via grading-api"]


def test_a_job_on_the_shown_system_says_nothing_of_where_it_is(frozen_now, alice, org):
    pending_job(requester=alice, owner=org["infra"], title="Reindex", start=at(10, 8))

    shown = via(week_of(client_for(alice), "grading-db"), "Reindex")

    assert shown == [""]


def test_a_timeline_mark_of_a_job_on_a_system_depended_on_says_where_it_is_booked(
    frozen_now, alice, org
):
    pending_job(requester=alice, owner=org["infra"], title="Reindex", start=at(10, 8))

    html = (
        client_for(alice)
        .get("/", {"view": "timeline", "date": "2030-12-08", "system": "grading-api"})
        .content.decode()
    )

    mark = re.search(r'<a class="mark mark-maintenance [^"]*"[^>]*>(.*?)</a>', html, re.S)
    assert "Reindex (via grading-db)" in mark.group(1)

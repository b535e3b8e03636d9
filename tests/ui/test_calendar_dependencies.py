"""In the browser: the calendar filtered to grading-db shows the deadline traffic on
grading-api (which depends on it), says where it comes from, and each shaded hour
says what /checks says for that hour."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from tests import builders

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_grading_dbs_calendar_shows_grading_apis_deadline_traffic(sign_in, web, alice, org):
    from playwright.sync_api import expect

    due = (
        (timezone.now() + timedelta(days=2))
        .astimezone(UTC)
        .replace(hour=12, minute=0, second=0, microsecond=0)
    )
    builders.deadline(
        title="Project 3",
        due=due,
        cohort_size=2000,
        systems=("grading-api",),
        owner=org["curriculum"],
    )

    page = sign_in(alice)
    page.goto(f"{web.url}/?view=week&system=grading-db&date={due:%Y-%m-%d}")

    deadline = page.locator(".item-deadline", has_text="Project 3 (2,000 students)")
    expect(deadline).to_be_visible()
    expect(deadline).to_contain_text("via grading-api")
    refused = page.locator('.hour[data-level="refuse"]')
    expect(refused.first).to_be_attached()

    api = APIClient()
    api.force_authenticate(alice)
    hours = page.locator(".hour").evaluate_all(
        "cells => cells.map(c => [c.dataset.start, c.dataset.level])"
    )
    assert any(level == "refuse" for _, level in hours)
    for start, level in hours[::7]:
        begin = datetime.fromisoformat(start)
        check = api.post(
            "/api/v1/checks",
            {
                "systems": ["grading-db"],
                "start": begin.isoformat(),
                "end": (begin + timedelta(hours=1)).isoformat(),
            },
            format="json",
        ).json()
        assert check["decision"] == {"none": "clear", "low": "clear"}.get(level, level), start

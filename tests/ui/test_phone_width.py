"""At phone width (390 px) month cells keep their entries and the deadlines table fits."""

from datetime import UTC, timedelta

import pytest
from django.utils import timezone

from scheduling.services.submission import maintenance_job_submit
from tests import builders

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}

# How far the widest month cell's content (text included) runs past the cell, in px.
OVERHANG = """() => Math.max(0, ...[...document.querySelectorAll('table.month td')].map(
  td => td.scrollWidth - td.clientWidth))"""


@pytest.fixture
def busy_month(org, alice, carol):
    start = (timezone.now() + timedelta(days=2)).astimezone(UTC)
    start = start.replace(hour=8, minute=0, second=0, microsecond=0)
    for hours in (0, 5):
        job = builders.job(
            owner=org["infra"],
            start=start + timedelta(hours=hours),
            end=start + timedelta(hours=hours + 2),
            by=alice,
            title="Quarterly grading-db optimisation (VACUUM FULL, REINDEX)",
            impact="degraded",
        )
        maintenance_job_submit(job_id=job.pk, by=alice)
    builders.blackout(
        title="Exam board reporting", start=start + timedelta(hours=9), systems=("grading-api",)
    )
    for days in (3, 4):
        builders.deadline(
            title="Project 3: distributed key-value store",
            due=start + timedelta(days=days),
            owner=org["curriculum"],
            course="CS201",
        )


def test_month_cells_do_not_overlap_at_phone_width(sign_in, web, alice, busy_month):
    page = sign_in(alice, **PHONE)
    page.goto(f"{web.url}/?view=month")

    assert page.evaluate(OVERHANG) <= 0
    month = page.evaluate(
        "(() => { const w = document.querySelector('.table-wrap');"
        " return w.scrollWidth - w.clientWidth; })()"
    )
    assert month <= 0, f"the month overflows by {month}px"
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0


def test_the_deadlines_table_does_not_overflow_at_phone_width(sign_in, web, alice, busy_month):
    page = sign_in(alice, **PHONE)
    page.goto(f"{web.url}/deadlines/")

    overflow = page.evaluate(
        "(() => { const w = document.querySelector('.table-wrap');"
        " return w.scrollWidth - w.clientWidth; })()"
    )
    assert overflow <= 0, f"the deadlines table overflows by {overflow}px"

"""Every page a person reaches fits a 390 px phone: nothing makes the page scroll sideways."""

from datetime import UTC, timedelta

import pytest
from django.utils import timezone

from scheduling.services.submission import maintenance_job_submit
from tests import builders

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
SIDEWAYS = "document.documentElement.scrollWidth - window.innerWidth"


@pytest.fixture
def objects(org, alice, carol):
    start = (timezone.now() + timedelta(days=2)).astimezone(UTC).replace(minute=0, second=0)
    job = builders.job(
        owner=org["infra"],
        start=start,
        end=start + timedelta(hours=2),
        by=alice,
        title="Quarterly grading-db optimisation (VACUUM FULL, REINDEX)",
        impact="exclusive_lock",
    )
    maintenance_job_submit(job_id=job.pk, by=alice)
    blackout = builders.blackout(
        title="Exam board reporting", start=start + timedelta(hours=1), systems=("grading-api",)
    )
    deadline = builders.deadline(
        title="Project 3: distributed key-value store",
        due=start + timedelta(days=1),
        owner=org["curriculum"],
        course="CS201",
    )
    return {"job": job, "blackout": blackout, "deadline": deadline}


def _pages(objects) -> list[str]:
    job, blackout, deadline = objects["job"], objects["blackout"], objects["deadline"]
    return [
        "/",
        "/?view=month",
        "/?view=week",
        "/jobs/",
        "/jobs/new/",
        f"/jobs/{job.pk}/",
        "/reviews/",
        "/freeze/",
        "/systems/",
        "/systems/grading-db/",
        "/feed-tokens/",
        "/api-tokens/",
        "/blackouts/",
        "/blackouts/new/",
        f"/blackouts/{blackout.pk}/",
        f"/blackouts/{blackout.pk}/edit/",
        "/deadlines/",
        "/deadlines/new/",
        "/deadlines/upload/",
        "/deadlines/feeds/",
        "/deadlines/feeds/new/",
        f"/deadlines/{deadline.pk}/",
        f"/deadlines/{deadline.pk}/edit/",
        "/teams/infra-dba/webhook/",
    ]


def test_no_page_scrolls_sideways_at_phone_width(sign_in, web, pat, objects):
    page = sign_in(pat, **PHONE)
    wide = {}
    for path in _pages(objects):
        response = page.goto(f"{web.url}{path}")
        if response.status != 200:
            wide[path] = f"status {response.status}"
            continue
        overflow = page.evaluate(SIDEWAYS)
        if overflow > 0:
            wide[path] = f"{overflow}px"
    assert wide == {}


def test_the_requesters_job_pages_fit_at_phone_width(sign_in, web, alice, objects):
    page = sign_in(alice, **PHONE)
    job = objects["job"]
    wide = {}
    for path in (f"/jobs/{job.pk}/", f"/jobs/{job.pk}/edit/", "/jobs/new/", "/api-tokens/"):
        page.goto(f"{web.url}{path}")
        overflow = page.evaluate(SIDEWAYS)
        if overflow > 0:
            wide[path] = f"{overflow}px"
    assert wide == {}

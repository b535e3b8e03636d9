"""Every absolute link uses SITE_URL, and `make run` derives it from HOST and PORT."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core import mail
from icalendar import Calendar

from scheduling.calendar_feeds.tokens import feed_token_create
from scheduling.services import messages
from scheduling.services.submission import maintenance_job_submit
from tests import builders
from tests.ui.conftest import client_for

ROOT = Path(__file__).resolve().parents[2]
SITE = "http://127.0.0.1:8100"


@pytest.fixture
def site(settings):
    settings.SITE_URL = SITE
    return SITE


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (["PORT=8100"], {}, "SITE_URL=http://127.0.0.1:8100"),
        (["HOST=localhost", "PORT=9000"], {}, "SITE_URL=http://localhost:9000"),
        # Every address is served, but no browser opens http://0.0.0.0: links name loopback.
        (["HOST=0.0.0.0", "PORT=9000"], {}, "SITE_URL=http://127.0.0.1:9000"),
        (["HOST=::", "PORT=9000"], {}, "SITE_URL=http://127.0.0.1:9000"),
        (
            ["PORT=8100"],
            {"SITE_URL": "https://clearway.example.org"},
            "SITE_URL=https://clearway.example.org",
        ),
    ],
)
def test_make_run_derives_site_url_from_its_port_unless_it_is_set(args, env, expected):
    clean = {k: v for k, v in os.environ.items() if k not in ("SITE_URL", "HOST", "PORT")}
    shown = subprocess.run(
        ["make", "-n", "run", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout

    assert expected in shown


def test_feed_links_shown_once_use_site_url_with_webcal_and_copy_buttons(site, alice):
    html = client_for(alice).post("/feed-tokens/", {"name": "Laptop"}).content.decode()

    assert re.search(rf'value="{SITE}/calendar/cwf_[\w-]+/all\.ics"', html)
    assert re.search(r'href="webcal://127\.0\.0\.1:8100/calendar/cwf_[\w-]+/all\.ics"', html)
    assert 'data-copy="feed-all"' in html
    assert "clearway/copy.js" in html


def test_the_api_feed_token_urls_use_site_url(site, alice):
    answer = client_for(alice).post(
        "/api/v1/feed-tokens", {"name": "Phone"}, content_type="application/json"
    )

    assert answer.status_code == 201, answer.content
    assert all(url.startswith(f"{SITE}/calendar/") for url in answer.json()["urls"].values())


def test_the_ics_url_and_the_job_page_gate_use_site_url(site, org, alice):
    job = builders.job(title="Vacuum", by=alice, owner=org["infra"], impact="degraded")
    maintenance_job_submit(job_id=job.pk, by=alice)
    _, secret = feed_token_create(user=alice, name="Phone")

    feed = client_for(alice).get(f"/calendar/{secret}/maintenance.ics")
    page = client_for(alice).get(f"/jobs/{job.pk}/").content.decode()

    [event] = Calendar.from_ical(
        b"".join(feed.streaming_content) if feed.streaming else feed.content
    ).walk("VEVENT")
    assert str(event["URL"]) == f"{SITE}/jobs/{job.pk}/"
    assert f"{SITE}/api/v1/jobs/{job.pk}/gate" in page


def test_review_emails_link_to_site_url(
    site, settings, org, alice, bob, django_capture_on_commit_callbacks
):
    settings.CLEARWAY_TASKS_SYNC = True
    org["grading"].email_addresses = ["grading@example.org"]
    org["grading"].save()
    job = builders.job(title="Vacuum", by=alice, owner=org["infra"], impact="degraded")

    with django_capture_on_commit_callbacks(execute=True):
        maintenance_job_submit(job_id=job.pk, by=alice)

    assert mail.outbox
    assert all(f"{SITE}/jobs/{job.pk}/" in message.body for message in mail.outbox)


def test_webhook_and_email_data_link_each_finding_through_site_url(site, org, alice):
    builders.blackout(title="Exam boards", start=builders.at(10, 9), systems=("grading-db",))
    job = builders.job(title="Vacuum", by=alice, owner=org["infra"], impact="degraded")
    assert job.findings, "the blackout should be a finding"

    data = messages.job_data(job)

    assert [f["url"] for f in data["findings"]] == [f"{SITE}{f['url']}" for f in job.findings]


def test_gate_and_state_reasons_link_through_site_url(site, org, alice):
    builders.deadline(title="Essay", cohort_size=5000, due=builders.at(10, 12))

    answer = client_for(alice).get("/api/v1/state?systems=grading-api&at=2030-12-10T09:00:00Z")

    urls = [reason["url"] for reason in answer.json()["reasons"] if reason["url"]]
    assert urls and all(url.startswith(f"{SITE}/deadlines/") for url in urls)


def test_the_job_api_links_each_finding_through_site_url(site, org, alice):
    builders.deadline(title="Essay", cohort_size=5000, due=builders.at(10, 12))
    job = builders.job(title="Vacuum", by=alice, owner=org["infra"], start=builders.at(10, 8))

    findings = client_for(alice).get(f"/api/v1/jobs/{job.pk}").json()["findings"]

    assert findings and all(f["url"].startswith(f"{SITE}/deadlines/") for f in findings)

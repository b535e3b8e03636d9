"""/metrics: Prometheus text, parsed with prometheus_client's own parser.

Readable with Authorization: Bearer $CLEARWAY_METRICS_TOKEN or by a signed-in
administrator; nobody else.
"""

from datetime import timedelta

import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from deadlines.models import DeadlineFeed
from operations.services.runs import run_start
from operations.tasks import watch_runs
from tests import builders
from tests.builders import at
from tests.ci.clients import bearer, token_for
from tests.workflow import approved_job

pytestmark = pytest.mark.django_db

TOKEN = "metrics-secret-for-tests"


@pytest.fixture
def scraper(settings):
    settings.CLEARWAY_METRICS_TOKEN = TOKEN
    return Client(HTTP_AUTHORIZATION=f"Bearer {TOKEN}")


def scrape(client) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics")
    assert response.status_code == 200, response.content
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def names(samples) -> set[str]:
    return {name for name, _ in samples}


def test_the_metrics_token_reads_every_series_the_issue_lists(scraper, org):
    samples = scrape(scraper)

    assert {
        "clearway_system_state",
        "clearway_students_expected",
        "clearway_jobs",
        "clearway_runs_in_progress",
        "clearway_runs_overrunning",
        "clearway_unbooked_locks_active",
        "clearway_unbooked_locks_total",
        "clearway_deliveries",
        "clearway_reevaluation_lag_seconds",
    } <= names(samples)


def test_a_wrong_token_is_refused(settings, org):
    settings.CLEARWAY_METRICS_TOKEN = TOKEN

    response = Client(HTTP_AUTHORIZATION="Bearer wrong").get("/metrics")

    assert response.status_code == 401


def test_without_a_configured_token_no_bearer_token_reads_metrics(settings, org):
    settings.CLEARWAY_METRICS_TOKEN = ""

    response = Client(HTTP_AUTHORIZATION="Bearer ").get("/metrics")

    assert response.status_code == 401


def test_a_ci_api_token_is_not_a_metrics_token(settings, org):
    settings.CLEARWAY_METRICS_TOKEN = TOKEN
    secret = token_for(org["infra"], "gate:read")

    assert Client(HTTP_AUTHORIZATION=f"Bearer {secret}").get("/metrics").status_code == 401


def test_a_signed_in_administrator_reads_metrics(admin):
    client = Client()
    client.force_login(admin)

    assert "clearway_jobs" in names(scrape(client))


def test_a_signed_in_member_who_is_no_admin_cannot(requester):
    client = Client()
    client.force_login(requester)

    assert client.get("/metrics").status_code == 401


def test_system_state_and_students_follow_the_calendar(scraper, org, clock):
    builders.deadline(due=at(2, 12), cohort_size=2000, systems=("grading-api",))

    samples = scrape(scraper)

    assert samples[("clearway_system_state", (("state", "closed"), ("system", "grading-api")))] == 1
    assert samples[("clearway_system_state", (("state", "open"), ("system", "grading-api")))] == 0
    assert samples[("clearway_students_expected", (("system", "grading-api"),))] == 2000
    assert samples[("clearway_system_state", (("state", "open"), ("system", "reports-db")))] == 1


def test_jobs_by_status_runs_and_overruns_are_counted(scraper, requester, reviewer, clock):
    job = approved_job(requester=requester, reviewer=reviewer)
    clock.move_to(at(10, 11, 55))
    run_start(job_id=job.pk, user=requester)
    clock.move_to(at(10, 12, 1))
    watch_runs()

    samples = scrape(scraper)

    assert samples[("clearway_jobs", (("status", "approved"),))] == 1
    assert samples[("clearway_runs_in_progress", ())] == 1
    assert samples[("clearway_runs_overrunning", ())] == 1
    assert samples[("clearway_deliveries", (("status", "failed"),))] == 0


def test_gate_answers_are_counted_by_code(scraper, org, requester, reviewer, clock):
    job = approved_job(requester=requester, reviewer=reviewer)
    ci = bearer(token_for(org["infra"]))
    ci.get(f"/api/v1/jobs/{job.pk}/gate")  # 423: outside the window
    clock.move_to(at(10, 9))
    ci.get(f"/api/v1/jobs/{job.pk}/gate")
    ci.get(f"/api/v1/jobs/{job.pk}/gate")

    samples = scrape(scraper)

    assert samples[("clearway_gate_answers_total", (("code", "423"),))] == 1
    assert samples[("clearway_gate_answers_total", (("code", "200"),))] == 2


def test_a_feeds_last_success_age_and_failure_streak(scraper, org, clock):
    # Sync state written directly: the feed's sync is tested in tests/deadlines.
    feed = DeadlineFeed.objects.create(
        url="https://lms.example.org/deadlines.ics",
        team=org["curriculum"],
        cohort_size=100,
        last_success_at=at(1, 9) - timedelta(hours=2),
        failure_count=3,
    )
    labels = (("feed", str(feed.pk)), ("team", "curriculum"))

    samples = scrape(scraper)

    assert samples[("clearway_feed_last_success_age_seconds", labels)] == 7200
    assert samples[("clearway_feed_failure_streak", labels)] == 3

"""Two people book the same exclusive slot at the same instant: at most one is approved.

Each contender runs in its own thread with its own database connection, and a
barrier releases them together, so the two transactions really overlap. On
PostgreSQL the services' row locks decide who goes first; on SQLite, the
IMMEDIATE transaction mode (one writer at a time).

SQLite's test database lives in memory, shared between connections through
SQLite's shared cache. There a connection that finds the database locked fails
at once ("database table is locked") instead of waiting out the busy timeout
as it does with the file database of a deployment. `_wait_when_locked` gives
the test connections that wait back, statement by statement (a failed
statement has no effect, so running it again is what the busy handler does).
"""

import threading
import time
from collections.abc import Callable
from contextlib import nullcontext
from datetime import timedelta

import pytest
from django.db import OperationalError, connection

from scheduling.errors import Conflict
from scheduling.models import MaintenanceJob
from scheduling.services import jobs as job_services
from scheduling.services.reviews import maintenance_job_review
from scheduling.services.submission import maintenance_job_submit
from tests import builders
from tests.builders import at

pytestmark = pytest.mark.django_db(transaction=True)

ROUNDS = 5


def _wait_when_locked(execute, sql, params, many, context):
    deadline = time.monotonic() + 20  # settings' SQLite timeout
    while True:
        try:
            return execute(sql, params, many, context)
        except OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def race(*contenders: Callable[[], object]) -> list[object]:
    """Run the contenders at once, one thread and connection each; return results or errors."""
    barrier = threading.Barrier(len(contenders))
    results: list[object] = [None] * len(contenders)

    def run(index: int, contender: Callable[[], object]) -> None:
        waiting = (
            connection.execute_wrapper(_wait_when_locked)
            if connection.vendor == "sqlite"
            else nullcontext()
        )
        try:
            with waiting:
                barrier.wait(timeout=10)
                results[index] = contender()
        except Exception as exc:
            results[index] = exc
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(index, contender))
        for index, contender in enumerate(contenders)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a contender hung"
    return results


@pytest.fixture
def slow_evaluation(monkeypatch):
    """Call it to hold each transaction open a moment between evaluating and deciding.

    Without it the race is often over before the other thread starts; with it,
    two contenders that are not serialised both see a free slot, every time.
    """
    evaluate = job_services.maintenance_job_evaluate

    def slow(**kwargs):
        evaluation = evaluate(**kwargs)
        time.sleep(0.2)
        return evaluation

    return lambda: monkeypatch.setattr(job_services, "maintenance_job_evaluate", slow)


def refusals(results: list[object]) -> list[Conflict]:
    unexpected = [r for r in results if isinstance(r, Exception) and not isinstance(r, Conflict)]
    assert not unexpected, unexpected
    return [r for r in results if isinstance(r, Conflict)]


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_two_exclusive_bookings_submitted_at_once_approve_only_one(
    requester, colleague, slow_evaluation, round_
):
    # reports-db belongs to infra and nothing depends on it: a clear submit
    # by an infra engineer is approved at once, with no review to wait for.
    start = at(10 + round_, 8)
    jobs = [
        builders.job(by=person, systems=["reports-db"], start=start, title=f"Job of {person}")
        for person in (requester, colleague)
    ]
    slow_evaluation()

    results = race(
        *(
            lambda job=job, person=person: maintenance_job_submit(job_id=job.pk, by=person)
            for job, person in zip(jobs, (requester, colleague), strict=True)
        )
    )

    [refusal] = refusals(results)
    assert refusal.code == "refused"
    statuses = sorted(
        MaintenanceJob.objects.filter(pk__in=[j.pk for j in jobs]).values_list("status", flat=True)
    )
    assert statuses == ["approved", "draft"]
    loser = MaintenanceJob.objects.get(pk__in=[j.pk for j in jobs], status="draft")
    assert loser.decision == "refuse"
    assert [f["kind"] for f in loser.findings] == ["maintenance"]


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_two_exclusive_bookings_approved_at_once_approve_only_one(
    requester, colleague, reviewer, admin, org, slow_evaluation, round_
):
    second_admin = builders.user(team=org["platform"], staff=True)
    start = at(10 + round_, 8)
    # A pending job only flags the other (the first approved wins), so what
    # each emergency overrides is a deadline that refuses both.
    builders.deadline(due=start + timedelta(hours=15), cohort_size=5000, systems=["grading-api"])
    jobs = [
        builders.job(by=requester, start=start, title="Reindex"),
        builders.job(by=colleague, start=start + timedelta(hours=1), title="Vacuum"),
    ]
    for job, person in zip(jobs, (requester, colleague), strict=True):
        maintenance_job_submit(
            job_id=job.pk, by=person, emergency=True, justification="Disk nearly full."
        )
    for job in jobs:
        maintenance_job_review(job_id=job.pk, team="grading", by=reviewer, approve=True)
    # Each emergency overrides the deadline's refusal: both wait for the
    # administrators, who approve them at the same instant.
    assert [r.team.slug for j in jobs for r in j.reviews.filter(status="pending")] == [
        "platform",
        "platform",
    ]
    slow_evaluation()

    results = race(
        *(
            lambda job=job, person=person: maintenance_job_review(
                job_id=job.pk, team="platform", by=person, approve=True
            )
            for job, person in zip(jobs, (admin, second_admin), strict=True)
        )
    )

    refusals(results)
    statuses = sorted(
        MaintenanceJob.objects.filter(pk__in=[j.pk for j in jobs]).values_list("status", flat=True)
    )
    assert statuses == ["approved", "conflicted"]

"""Concurrency: many bookings of the same slot at once end in exactly the allowed outcomes.

Extends tests/scheduling/test_concurrency.py (two contenders) to a matrix of
impacts and 16 contenders per round, for both ways a job reaches approval:
approved at submit (nobody else reviews), and approved by the last reviewer.
The rule (scheduling.engine): work that takes exclusive locks or downtime
refuses, and is refused by, any overlapping booking of the same system; two
degraded jobs only flag each other, so both may run.

Then the retry of serialization failures and deadlocks (scheduling.db).
"""

import itertools
import sys
import time

import pytest
from django.db import OperationalError, transaction

from scheduling import db
from scheduling.choices import HEAVY_IMPACTS, Impact
from scheduling.errors import Conflict
from scheduling.models import MaintenanceJob, ReviewRequest
from scheduling.services import jobs as job_services
from scheduling.services import reevaluation, submission, transitions
from scheduling.services.reviews import maintenance_job_review
from scheduling.services.submission import maintenance_job_submit
from tests import builders
from tests.builders import at
from tests.db_errors import deadlock, serialization_failure
from tests.scheduling.test_concurrency import race

CONTENDERS = 16
ROUNDS = 2
# Each approval re-evaluates every overlapping job (16 each): one round is ~4 s.
APPROVAL_ROUNDS = 1
IMPACTS = {"exclusive": Impact.EXCLUSIVE_LOCK, "shared": Impact.DEGRADED}
MATRIX = list(itertools.product(IMPACTS, IMPACTS))


@pytest.fixture
def overlapping_decisions(monkeypatch):
    """Call it to hold each transaction a moment between evaluating and deciding.

    Unserialised contenders then all see the slot free; serialised ones queue.
    """
    evaluate = job_services.maintenance_job_evaluate

    def slow(**kwargs):
        evaluation = evaluate(**kwargs)
        # Not in the re-evaluations every approval sets off: they decide nothing
        # this test races on, and there are 16 per approval.
        if not _called_from("maintenance_job_reevaluate"):
            time.sleep(0.03)
        return evaluation

    return lambda: monkeypatch.setattr(job_services, "maintenance_job_evaluate", slow)


def _called_from(name: str) -> bool:
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name == name:
            return True
        frame = frame.f_back
    return False


def contenders(first: str, second: str, *, people, systems, start) -> list[MaintenanceJob]:
    """CONTENDERS jobs on the same systems and window, alternating the two impacts."""
    return [
        builders.job(
            by=people[n % len(people)],
            systems=systems,
            start=start,
            impact=IMPACTS[(first, second)[n % 2]],
            title=f"Contender {n}",
        )
        for n in range(CONTENDERS)
    ]


def assert_allowed_outcome(jobs: list[MaintenanceJob], *, every_shared: bool) -> None:
    """One heavy job holds the slot alone, or degraded jobs share it.

    With `every_shared`, every degraded job shares it. Not so on the way
    through review: re-evaluation conflicts a pending degraded job as soon as a
    heavy emergency books over it, and then it stays out even if that
    emergency loses.
    """
    rows = list(MaintenanceJob.objects.filter(pk__in=[j.pk for j in jobs]))
    approved = [j for j in rows if j.status == "approved"]
    shared = [j for j in rows if j.impact not in HEAVY_IMPACTS]
    assert approved, "someone must win the slot"
    if any(j.impact in HEAVY_IMPACTS for j in approved):
        assert len(approved) == 1, [(j.pk, j.impact) for j in approved]
    elif every_shared or len(shared) == len(rows):
        assert sorted(j.pk for j in approved) == sorted(j.pk for j in shared)


def like_a_client(call):
    """Run `call`; on a busy answer (the API's 503 + Retry-After) wait and ask again.

    16 transactions queueing for the same system rows can outlast PostgreSQL's
    lock_timeout (3 s in the settings); the API then answers 503 and the
    client retries. That is a correct answer, not one of the outcomes raced on.
    """

    def patiently():
        give_up = time.monotonic() + 30
        while True:
            try:
                return call()
            except OperationalError as exc:
                if not db.is_busy(exc) or time.monotonic() > give_up:
                    raise
                time.sleep(0.1)

    return patiently


def unexpected(results: list[object]) -> list[object]:
    """Anything but an answer or a refusal (Conflict) is a failure: a 500 in the API."""
    return [r for r in results if isinstance(r, Exception) and not isinstance(r, Conflict)]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(ROUNDS))
@pytest.mark.parametrize(("first", "second"), MATRIX)
def test_16_concurrent_submits_of_one_slot_end_in_an_allowed_outcome(
    first, second, round_, requester, colleague, overlapping_decisions, settings
):
    """Pass: exclusive x anything -> exactly one approved, the rest refused (still
    draft); shared x shared -> all approved; no error but Conflict."""
    # Re-evaluations after each approval go to the queue, as in production,
    # instead of running inline in the contenders' threads: 16 x 16 of them
    # would only slow the race down (the approvals test runs them inline).
    settings.CLEARWAY_TASKS_SYNC = False
    # reports-db: infra's, nothing depends on it, so a clear submit is approved at once.
    jobs = contenders(
        first,
        second,
        people=[requester, colleague],
        systems=["reports-db"],
        start=at(10 + round_, 8),
    )

    results = race(
        *(lambda job=job: maintenance_job_submit(job_id=job.pk, by=job.created_by) for job in jobs)
    )

    assert not unexpected(results), unexpected(results)
    assert_allowed_outcome(jobs, every_shared=True)
    refused = MaintenanceJob.objects.filter(pk__in=[j.pk for j in jobs]).exclude(status="approved")
    assert {(j.status, j.decision) for j in refused} <= {("draft", "refuse")}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(APPROVAL_ROUNDS))
@pytest.mark.parametrize(("first", "second"), MATRIX)
def test_16_concurrent_final_approvals_of_one_slot_end_in_an_allowed_outcome(
    first, second, round_, requester, colleague, reviewer, admin, overlapping_decisions
):
    """Pass: 16 pending jobs of one slot (emergencies overriding each other) approved at
    once by their reviewers: never two conflicting approvals; the losers conflicted."""
    jobs = contenders(
        first,
        second,
        people=[requester, colleague],
        systems=["grading-db"],
        start=at(10 + round_, 8),
    )
    for job in jobs:
        maintenance_job_submit(
            job_id=job.pk, by=job.created_by, emergency=True, justification="Disk nearly full."
        )

    def approve_all_reviews(job: MaintenanceJob) -> str:
        for team, person in (("grading", reviewer), ("platform", admin)):
            job.refresh_from_db()
            if job.status != "pending":
                break
            if ReviewRequest.objects.filter(
                job=job, team__slug=team, round=job.review_round, status="pending"
            ).exists():
                maintenance_job_review(job_id=job.pk, team=team, by=person, approve=True)
        return MaintenanceJob.objects.get(pk=job.pk).status

    overlapping_decisions()
    results = race(*(like_a_client(lambda job=job: approve_all_reviews(job)) for job in jobs))

    assert not unexpected(results), unexpected(results)
    assert_allowed_outcome(jobs, every_shared=False)
    statuses = MaintenanceJob.objects.filter(pk__in=[j.pk for j in jobs])
    assert set(statuses.values_list("status", flat=True)) <= {"approved", "conflicted"}


# --- serialization failures and deadlocks ------------------------------------------


class Flaky:
    """Fails with `errors` in turn, then answers 'done'."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "done"


@pytest.mark.django_db(transaction=True)
def test_a_serialization_failure_twice_then_success_is_retried_to_success():
    """Pass: 40001 twice, then success -> the caller gets the result after 3 calls."""
    flaky = Flaky(serialization_failure(), serialization_failure())

    assert db.retry_on_conflict(flaky)() == "done"
    assert flaky.calls == 3


@pytest.mark.django_db(transaction=True)
def test_a_deadlock_is_retried_too():
    flaky = Flaky(deadlock())

    assert db.retry_on_conflict(flaky)() == "done"
    assert flaky.calls == 2


@pytest.mark.django_db(transaction=True)
def test_retries_are_bounded():
    """Pass: a conflict on every attempt gives up after RETRY_ATTEMPTS and re-raises."""
    flaky = Flaky(*(serialization_failure() for _ in range(db.RETRY_ATTEMPTS + 1)))

    with pytest.raises(OperationalError):
        db.retry_on_conflict(flaky)()
    assert flaky.calls == db.RETRY_ATTEMPTS


@pytest.mark.django_db(transaction=True)
def test_other_errors_are_not_retried():
    flaky = Flaky(OperationalError("database is locked"))

    with pytest.raises(OperationalError):
        db.retry_on_conflict(flaky)()
    assert flaky.calls == 1


@pytest.mark.django_db(transaction=True)
def test_no_retry_inside_an_atomic_block():
    """Pass: nested in a caller's transaction, the error goes up at once (1 call):
    retrying half a transaction that PostgreSQL has already aborted cannot work."""
    flaky = Flaky(serialization_failure())

    with pytest.raises(OperationalError), transaction.atomic():
        db.retry_on_conflict(flaky)()
    assert flaky.calls == 1


# Each operation, its call, and the status and history entry it leaves behind.
OPERATIONS = {
    "submit": (
        lambda job, p: maintenance_job_submit(job_id=job.pk, by=p["requester"]),
        "pending",
        "submitted",
    ),
    "review": (
        lambda job, p: maintenance_job_review(
            job_id=job.pk, team="grading", by=p["reviewer"], approve=True
        ),
        "approved",
        "review_approved",
    ),
    "cancel": (
        lambda job, p: transitions.maintenance_job_cancel(job_id=job.pk, by=p["requester"]),
        "cancelled",
        "cancelled",
    ),
    "done": (
        lambda job, p: transitions.maintenance_job_done(job_id=job.pk, by=p["requester"]),
        "done",
        "done",
    ),
    "update": (
        lambda job, p: submission.maintenance_job_update(
            job_id=job.pk, by=p["requester"], start=at(12, 8), end=at(12, 12)
        ),
        "draft",
        "rescheduled",
    ),
    "reevaluate": (
        lambda job, p: reevaluation.maintenance_job_reevaluate(job_id=job.pk, reason="test"),
        "pending",
        None,
    ),
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("operation", OPERATIONS)
def test_every_lifecycle_operation_is_retried_after_a_serialization_failure(
    operation, requester, reviewer, clock, monkeypatch
):
    """Pass: each operation's first attempt fails with 40001 after taking its row locks;
    the operation runs again, succeeds, and its change is recorded exactly once."""
    job = builders.job(by=requester, start=at(10, 8))
    if operation in ("review", "done", "reevaluate"):
        maintenance_job_submit(job_id=job.pk, by=requester)
    if operation == "done":
        maintenance_job_review(job_id=job.pk, team="grading", by=reviewer, approve=True)
        clock.move_to(at(11))
    call, status, action = OPERATIONS[operation]
    failures = [serialization_failure()]

    def once(real):
        def failing_first(*args, **kwargs):
            found = real(*args, **kwargs)
            if failures:
                raise failures.pop()
            return found

        return failing_first

    # Every operation but reevaluate locks through _lock; reevaluate locks the job alone.
    monkeypatch.setattr(transitions, "lock_job", once(transitions.lock_job))
    jobs = MaintenanceJob.objects
    monkeypatch.setattr(jobs, "select_for_update", once(jobs.select_for_update))

    call(job, {"requester": requester, "reviewer": reviewer})

    assert not failures, "the serialization failure was raised"
    job.refresh_from_db()
    assert job.status == status
    if action:
        assert job.history.filter(action=action).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_job_deletion_hit_by_a_deadlock_is_retried_and_recorded_once(
    requester, clock, monkeypatch
):
    """Pass: the deletion's first attempt deadlocks after taking its row locks (its
    cascade rewrites other jobs' findings); it runs again and the job is gone, with
    one calendar change saying who deleted it."""
    from scheduling.models import CalendarChange
    from scheduling.services.deletion import maintenance_job_delete

    job = builders.job(by=requester, start=at(10, 8))
    maintenance_job_submit(job_id=job.pk, by=requester)
    admin = builders.user("pat", staff=True)
    failures = [deadlock()]
    real = transitions.lock_job

    def failing_first(*args, **kwargs):
        found = real(*args, **kwargs)
        if failures:
            raise failures.pop()
        return found

    monkeypatch.setattr(transitions, "lock_job", failing_first)
    changes = CalendarChange.objects.count()

    maintenance_job_delete(job_id=job.pk, by=admin)

    assert not failures, "the deadlock was raised"
    assert not MaintenanceJob.objects.filter(pk=job.pk).exists()
    assert CalendarChange.objects.count() == changes + 1
    assert "deleted by pat" in CalendarChange.objects.latest("pk").reason

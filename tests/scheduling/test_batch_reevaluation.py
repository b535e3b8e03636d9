"""Re-evaluating the jobs under a change together reaches what re-evaluating them one by one does.

Each case builds a calendar through the services (jobs in several statuses,
then deadlines and blackouts that move some of them), makes one more change
with its re-evaluation held back, and runs that re-evaluation twice from the
same state: in batch (`reevaluate_windows`) and one job at a time
(`maintenance_job_reevaluate` over the jobs `jobs_touching` selects, as before
the batch path, then again over the jobs reached by those whose status changed,
until nobody moves). Statuses, decisions, findings, history, review requests and
notifications must come out the same; only `evaluated_at` of a job whose
evaluation did not change may differ (the batch leaves it).
"""

import random
from datetime import datetime, timedelta
from unittest import mock

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from blackouts.services import blackout_delete
from deadlines.services import deadline_update, deadline_withdraw
from scheduling.choices import Impact, ReviewStatus, Severity
from scheduling.errors import Conflict
from scheduling.models import Delivery, JobEvent, MaintenanceJob, ReviewRequest, System
from scheduling.services.catalogue import system_save
from scheduling.services.reevaluation import (
    ROUNDS,
    jobs_touching,
    maintenance_job_reevaluate,
    reevaluate_windows,
)
from scheduling.services.reviews import maintenance_job_review
from scheduling.services.submission import maintenance_job_submit
from tests import builders
from tests.builders import at
from tests.workflow import approved_job, pending_job

pytestmark = pytest.mark.django_db

SYSTEMS = ("grading-db", "grading-api", "submissions-web", "reports-db")
IMPACTS = tuple(Impact.values)


def _book(rng: random.Random, requester, reviewer, n: int) -> None:
    start = at(rng.randint(3, 9), rng.choice([0, 6, 12, 18]))
    booking = {
        "systems": rng.sample(SYSTEMS, rng.randint(1, 2)),
        "start": start,
        "end": start + timedelta(hours=rng.choice([2, 6, 30])),
        "impact": rng.choice(IMPACTS),
        "title": f"Job {n}",
    }
    if rng.random() < 0.2:
        builders.job(by=requester, **booking)
        return
    try:
        job = pending_job(requester=requester, **booking)
    except Conflict:
        return  # refused at submit: it stays a draft
    if rng.random() < 0.3:
        return
    for review in ReviewRequest.objects.filter(
        job=job, team__slug="grading", status=ReviewStatus.PENDING
    ):
        maintenance_job_review(job_id=review.job_id, team="grading", by=reviewer, approve=True)


def _calendar(rng: random.Random, requester, reviewer) -> tuple[list, list]:
    for n in range(8):
        _book(rng, requester, reviewer, n)
    deadlines = [
        builders.deadline(
            due=at(rng.randint(4, 9), rng.randint(0, 23)),
            cohort_size=rng.choice([300, 1500]),
            systems=rng.sample(SYSTEMS[:3], 1),
            title=f"Deadline {n}",
        )
        for n in range(2)
    ]
    blackouts = [
        builders.blackout(
            systems=rng.sample(SYSTEMS, rng.randint(0, 2)),
            start=at(rng.randint(3, 9), rng.choice([0, 12])),
            severity=rng.choice([Severity.FLAG, Severity.REFUSE]),
            owner=builders.team("exams"),
            title=f"Blackout {n}",
        )
        for n in range(2)
    ]
    return deadlines, blackouts


CHANGES = ("deadline", "move", "withdraw", "blackout", "delete")


def _change(rng: random.Random, change: str, deadlines: list, blackouts: list) -> None:
    """One more change of the calendar: new, moved or gone (so conflicts also clear)."""
    match change:
        case "deadline":
            builders.deadline(
                due=at(rng.randint(4, 9), 12), cohort_size=1500, systems=["grading-db"]
            )
        case "move":
            deadline_update(deadline=deadlines[0], due=deadlines[0].due + timedelta(days=1))
        case "withdraw":
            deadline_withdraw(deadline=deadlines[0])
        case "blackout":
            builders.blackout(systems=["grading-api"], start=at(rng.randint(3, 9)))
        case "delete":
            blackout_delete(blackout=blackouts[0])


def _held_back_windows(change) -> list[tuple]:
    """The windows whose re-evaluation `change` queues, without running it."""
    queued = []
    with mock.patch(
        "scheduling.services.calendar.enqueue", lambda path, **task: queued.append(task)
    ):
        change()
    windows = []
    for task in queued:
        for start, end, systems in task.get("windows") or [
            [task["start"], task["end"], task["systems"]]
        ]:
            windows.append((_instant(start), _instant(end), systems))
    return windows


def _instant(value):
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _outcome() -> dict:
    return {
        "jobs": list(
            MaintenanceJob.objects.order_by("pk").values_list(
                "pk", "status", "decision", "findings", "review_round", "version"
            )
        ),
        # Each job's history in order (the batch saves some jobs' entries together).
        "history": sorted(
            JobEvent.objects.order_by("pk").values_list(
                "job_id", "action", "from_status", "to_status", "decision", "reason", "findings"
            ),
            key=lambda entry: entry[0],
        ),
        "reviews": sorted(
            ReviewRequest.objects.values_list("job_id", "team__slug", "round", "status", "reason")
        ),
        "notifications": sorted(Delivery.objects.values_list("key", "channel", "event", "text")),
    }


def _tried(run) -> dict:
    """What `run` leaves behind, then undone."""
    savepoint = transaction.savepoint_create()
    run()
    outcome = _outcome()
    transaction.savepoint_rollback(savepoint)
    return outcome


def _one_by_one(windows: list[tuple], now) -> None:
    """Job by job in id order; then, again, the jobs reached by the bookings of those whose
    status changed (earlier ones too), until nobody moves."""
    for _ in range(ROUNDS):
        touched = sorted(
            {
                pk
                for start, end, systems in windows
                for pk in jobs_touching(start=start, end=end, systems=systems, now=now)
            }
        )
        before = dict(MaintenanceJob.objects.filter(pk__in=touched).values_list("pk", "status"))
        moved = [
            pk
            for pk in touched
            if maintenance_job_reevaluate(job_id=pk, reason="calendar changed", now=now)
            != before[pk]
        ]
        if not moved:
            return
        windows = [
            (start, end, list(job.impacted_systems.values_list("slug", flat=True)))
            for job in MaintenanceJob.objects.filter(pk__in=moved)
            for start, end in job.occurrences.values_list("start", "end")
        ]


@pytest.mark.parametrize("change", CHANGES)
@pytest.mark.parametrize("seed", range(4))
def test_the_batch_reaches_what_one_by_one_reaches(
    seed, change, clock, requester, reviewer, django_capture_on_commit_callbacks
):
    rng = random.Random(seed)
    # The calendar's own re-evaluations run (they move jobs every way).
    with django_capture_on_commit_callbacks(execute=True):
        deadlines, blackouts = _calendar(rng, requester, reviewer)
    windows = _held_back_windows(lambda: _change(rng, change, deadlines, blackouts))
    now = at(1, 9)

    together = _tried(
        lambda: reevaluate_windows(windows=windows, reason="calendar changed", now=now)
    )
    alone = _tried(lambda: _one_by_one(windows, now))

    assert together == alone


def test_a_later_job_sees_an_earlier_one_the_same_change_took_out_of_approval(
    clock, requester, reviewer
):
    first = approved_job(requester=requester, reviewer=reviewer, start=at(10, 8))
    later = builders.job(by=requester, start=at(10, 10), impact=Impact.DEGRADED)
    assert any(f["kind"] == "maintenance" for f in later.findings)
    # 1,500 students refuse the first job's exclusive lock, and only flag degraded work.
    windows = _held_back_windows(
        lambda: builders.deadline(due=at(11), cohort_size=1500, systems=["grading-db"])
    )

    together = _tried(
        lambda: reevaluate_windows(windows=windows, reason="calendar changed", now=at(1, 9))
    )
    alone = _tried(lambda: _one_by_one(windows, at(1, 9)))

    assert together == alone
    jobs = {pk: (status, findings) for pk, status, _, findings, *_ in together["jobs"]}
    assert jobs[first.pk][0] == "conflicted"
    assert [f["kind"] for f in jobs[later.pk][1]] == ["deadline"]


def test_an_earlier_job_refused_by_a_booking_the_same_change_took_out_comes_back(
    clock, requester, reviewer, admin, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = approved_job(requester=requester, reviewer=reviewer, start=at(10, 8))
        booking = builders.job(by=requester, systems=["reports-db"], start=at(10, 8))
        maintenance_job_submit(job_id=booking.pk, by=requester)
        # grading-api comes to depend on reports-db: the approved booking refuses the job.
        system_save(
            slug="grading-api",
            name="Grading API",
            team=builders.team("grading"),
            depends_on=["grading-db", "reports-db"],
            system=System.objects.get(slug="grading-api"),
        )
    assert MaintenanceJob.objects.get(pk=job.pk).status == "conflicted"
    windows = _held_back_windows(lambda: builders.blackout(systems=["reports-db"], start=at(10)))

    together = _tried(
        lambda: reevaluate_windows(windows=windows, reason="calendar changed", now=at(1, 9))
    )
    alone = _tried(lambda: _one_by_one(windows, at(1, 9)))

    assert together == alone
    statuses = {pk: status for pk, status, *_ in together["jobs"]}
    assert (statuses[job.pk], statuses[booking.pk]) == ("approved", "conflicted")


def test_a_job_conflicted_by_an_occurrence_that_has_passed_is_taken_by_both(
    clock, requester, reviewer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = approved_job(requester=requester, reviewer=reviewer, rrule="FREQ=DAILY;COUNT=3")
        blackout = builders.blackout(systems=["grading-db"], start=at(10))
    assert MaintenanceJob.objects.get(pk=job.pk).status == "conflicted"
    windows = _held_back_windows(lambda: blackout_delete(blackout=blackout))
    later = at(11, 0, 30)  # the occurrence of the 10th is over

    together = _tried(
        lambda: reevaluate_windows(windows=windows, reason="calendar changed", now=later)
    )
    alone = _tried(lambda: _one_by_one(windows, later))

    assert together == alone
    assert {pk: status for pk, status, *_ in together["jobs"]}[job.pk] == "approved"


def _drafts(count: int, *, requester, first: int = 0) -> None:
    for n in range(first, first + count):
        builders.job(by=requester, systems=["reports-db"], start=at(5, n), title=f"Draft {n}")


def _queries(run) -> int:
    with CaptureQueriesContext(connection) as queries:
        run()
    return len(queries)


def test_jobs_whose_evaluation_is_unchanged_cost_no_query_each(clock, requester):
    deadline = builders.deadline(due=at(6), cohort_size=40, systems=["reports-db"])
    windows = [(at(4), at(6, 12), ["reports-db"])]
    _drafts(2, requester=requester)
    two = _queries(lambda: reevaluate_windows(windows=windows, reason="test", now=at(1, 9)))
    _drafts(4, requester=requester, first=2)

    six = _queries(lambda: reevaluate_windows(windows=windows, reason="test", now=at(1, 9)))

    assert six == two
    assert deadline.cohort_size < 200  # under the flag threshold: no finding


def test_jobs_whose_evaluation_is_unchanged_are_not_written(clock, requester):
    _drafts(3, requester=requester)
    stamps = dict(MaintenanceJob.objects.values_list("pk", "evaluated_at"))
    clock.move_to(at(1, 10))

    reevaluate_windows(windows=[(at(4), at(6), ["reports-db"])], reason="test")

    assert dict(MaintenanceJob.objects.values_list("pk", "evaluated_at")) == stamps


def test_findings_that_changed_without_consequence_are_stored_in_one_update(clock, requester):
    deadline = builders.deadline(due=at(5, 12), cohort_size=300, systems=["reports-db"])
    _drafts(2, requester=requester)
    with mock.patch("scheduling.services.calendar.enqueue"):
        deadline_update(deadline=deadline, title="Project 4")
    windows = [(at(3), at(6), ["reports-db"])]
    two = _queries(lambda: reevaluate_windows(windows=windows, reason="test", now=at(1, 9)))
    _drafts(4, requester=requester, first=2)
    with mock.patch("scheduling.services.calendar.enqueue"):
        deadline_update(deadline=deadline, title="Project 5")

    six = _queries(lambda: reevaluate_windows(windows=windows, reason="test", now=at(1, 9)))

    assert six == two
    titles = {f["title"] for job in MaintenanceJob.objects.all() for f in job.findings}
    assert titles == {"Project 5 (300 students)"}
    assert not JobEvent.objects.filter(action="reevaluated").exists()


def _pending_job_flagged_by_curriculum(requester):
    # 300 students flag the job's exclusive lock; curriculum is asked to review it.
    builders.deadline(due=at(11), cohort_size=300, systems=["grading-db"], title="Project 1")
    job = pending_job(requester=requester, start=at(10, 8))
    asked = set(ReviewRequest.objects.filter(job=job).values_list("team__slug", flat=True))
    assert asked == {"grading", "curriculum"}
    return job


def _by_batch_and_alone(windows) -> tuple[dict, dict, list]:
    """Both outcomes, and the jobs the batch took through the per-job path."""
    with mock.patch(
        "scheduling.services.reevaluation.maintenance_job_reevaluate",
        wraps=maintenance_job_reevaluate,
    ) as per_job:
        together = _tried(
            lambda: reevaluate_windows(windows=windows, reason="calendar changed", now=at(1, 9))
        )
    alone = _tried(lambda: _one_by_one(windows, at(1, 9)))
    return together, alone, [call.kwargs["job_id"] for call in per_job.call_args_list]


def test_a_pending_job_newly_flagged_by_a_team_it_already_asks_is_stored_in_bulk(clock, requester):
    job = _pending_job_flagged_by_curriculum(requester)
    windows = _held_back_windows(
        lambda: builders.deadline(
            due=at(11, 6), cohort_size=300, systems=["grading-db"], title="Project 2"
        )
    )

    together, alone, one_by_one = _by_batch_and_alone(windows)

    assert together == alone
    assert one_by_one == []
    assert [entry[1] for entry in together["history"] if entry[0] == job.pk][-1] == "reevaluated"
    assert {(r[0], r[1]) for r in together["reviews"]} == {
        (job.pk, "grading"),
        (job.pk, "curriculum"),
    }


def test_a_pending_job_newly_flagged_by_another_team_asks_it_one_by_one(clock, requester):
    job = _pending_job_flagged_by_curriculum(requester)
    windows = _held_back_windows(
        lambda: builders.deadline(
            due=at(11, 6),
            cohort_size=300,
            systems=["grading-db"],
            owner=builders.team("exams"),
            title="Exam 1",
        )
    )

    together, alone, one_by_one = _by_batch_and_alone(windows)

    assert together == alone
    assert one_by_one == [job.pk]
    assert (job.pk, "exams") in {(r[0], r[1]) for r in together["reviews"]}


def test_an_emergency_left_with_only_the_refusals_its_override_covered_goes_one_by_one(
    clock, requester, reviewer, admin
):
    # 2,000 students refuse the job; grading and an administrator approve the override.
    builders.deadline(due=at(10, 23), cohort_size=2000, systems=["grading-api"])
    job = builders.job(by=requester, start=at(10, 8))
    maintenance_job_submit(job_id=job.pk, by=requester, emergency=True, justification="Disk full.")
    maintenance_job_review(job_id=job.pk, team="grading", by=reviewer, approve=True)
    maintenance_job_review(job_id=job.pk, team="platform", by=admin, approve=True)
    with mock.patch("scheduling.services.calendar.enqueue"):
        audit = builders.blackout(systems=["grading-db"], start=at(10), title="Audit")
    maintenance_job_reevaluate(job_id=job.pk, reason="audit published", now=at(1, 9))
    assert MaintenanceJob.objects.get(pk=job.pk).status == "conflicted"
    windows = _held_back_windows(lambda: blackout_delete(blackout=audit))

    together, alone, one_by_one = _by_batch_and_alone(windows)

    assert together == alone
    assert one_by_one == [job.pk]
    assert [status for pk, status, *_ in together["jobs"] if pk == job.pk] == ["approved"]

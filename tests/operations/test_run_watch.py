"""The run watcher (operations.tasks.watch_runs): overruns, lost runs, stops asked by Clearway.

The job is approved on grading-db for 2030-12-10 08:00-12:00 UTC; grading owns
the systems that depend on grading-db, so it hears about overruns with infra.
"""

from datetime import timedelta

import pytest

from operations.models import Run, RunStatus
from operations.services.runs import run_heartbeat, run_start
from operations.tasks import watch_runs
from scheduling.models import Delivery
from tests import builders
from tests.builders import at
from tests.workflow import approved_job

pytestmark = pytest.mark.django_db


@pytest.fixture
def job(requester, reviewer):
    return approved_job(requester=requester, reviewer=reviewer)


@pytest.fixture
def run(job, requester, clock, settings):
    settings.CLEARWAY_RUN_LOST_AFTER = timedelta(minutes=10)
    settings.CLEARWAY_OVERRUN_REPEAT = timedelta(minutes=30)
    clock.move_to(at(10, 11, 30))
    run, _ = run_start(job_id=job.pk, user=requester)
    return run


def beat(clock, run, moment):
    clock.move_to(moment)
    run_heartbeat(job_id=run.job_id, run_id=run.pk)


def notices(event: str) -> list[Delivery]:
    return list(Delivery.objects.filter(event=event).order_by("pk"))


def test_a_run_inside_its_window_is_neither_overrun_nor_notified(run, clock):
    beat(clock, run, at(10, 11, 55))

    watch_runs()

    run.refresh_from_db()
    assert run.overrun_at is None
    assert notices("run_overrun") == []


def test_a_run_still_going_at_the_window_end_is_an_overrun_told_to_the_team_and_owners(run, clock):
    beat(clock, run, at(10, 12, 1))

    watch_runs()

    run.refresh_from_db()
    assert run.overrun_at == at(10, 12, 1)
    channels = {d.channel for d in notices("run_overrun")}
    assert channels == {"email:infra@example.org", "email:grading@example.org"}


def test_overrun_notices_repeat_once_per_interval_while_it_lasts(run, clock):
    beat(clock, run, at(10, 12, 1))
    watch_runs()
    beat(clock, run, at(10, 12, 20))
    watch_runs()
    first_round = len(notices("run_overrun"))
    beat(clock, run, at(10, 12, 31))
    watch_runs()
    watch_runs()

    assert first_round == 2  # one per team, at once
    assert len(notices("run_overrun")) == 4  # and once more 30 minutes later


def test_a_run_without_heartbeat_for_the_configured_time_is_lost(run, clock):
    clock.move_to(at(10, 11, 41))

    watch_runs()

    run.refresh_from_db()
    assert run.status == RunStatus.LOST
    assert len(notices("run_lost")) == 2


def test_a_run_that_heartbeats_in_time_is_not_lost(run, clock):
    beat(clock, run, at(10, 11, 39))
    clock.move_to(at(10, 11, 45))

    watch_runs()

    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING


def test_a_lost_run_that_heartbeats_again_is_running_again(run, clock):
    clock.move_to(at(10, 11, 41))
    watch_runs()

    beat(clock, run, at(10, 11, 50))

    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING


def test_a_finished_run_is_never_overrun(run, clock):
    from operations.services.runs import run_finish

    run_finish(job_id=run.job_id, run_id=run.pk, outcome="succeeded")
    clock.move_to(at(10, 13))

    watch_runs()

    assert notices("run_overrun") == []


def test_an_overrun_into_refusing_traffic_says_how_many_students_and_asks_the_run_to_stop(
    run, clock
):
    # 2,000 students due at 2030-12-12 12:00: traffic from 12-10 12:00 refuses.
    builders.deadline(due=at(12, 12), cohort_size=2000, systems=("grading-api",))
    beat(clock, run, at(10, 12, 5))

    watch_runs()

    run.refresh_from_db()
    notice = notices("run_overrun")[0]
    assert "2,000 students are expected now" in notice.text
    assert notice.payload["traffic"][0]["students"] == 2000
    assert run.stop_requested_by == "clearway"
    assert run_heartbeat(job_id=run.job_id, run_id=run.pk).stop is True


def test_the_overrun_notice_says_when_the_refusing_traffic_really_ends(run, clock):
    # 2,000 students due 2030-12-12 12:00: their traffic lasts until 18:00 that day,
    # beyond the 48 hours the notice looks ahead.
    builders.deadline(due=at(12, 12), cohort_size=2000, systems=("grading-api",))
    beat(clock, run, at(10, 12, 5))

    watch_runs()

    run.refresh_from_db()
    assert "expected now until 2030-12-12 18:00 UTC" in notices("run_overrun")[0].text
    assert "until 2030-12-12 18:00 UTC" in run.stop_reason


def test_an_overrun_before_refusing_traffic_says_when_it_comes_without_asking_to_stop(run, clock):
    builders.deadline(due=at(12, 20), cohort_size=1500, systems=("grading-api",))
    beat(clock, run, at(10, 12, 5))

    watch_runs()

    run.refresh_from_db()
    assert "1,500 students are expected from 2030-12-10 20:00 UTC" in notices("run_overrun")[0].text
    assert run.stop_requested_at is None


def test_the_watcher_processes_each_due_run_once_per_call(job, requester, clock):
    clock.move_to(at(10, 11, 58))
    for key in ("a", "b", "c"):
        run_start(job_id=job.pk, user=requester, idempotency_key=key)
    clock.move_to(at(10, 12, 5))

    processed = watch_runs()

    assert processed == 3
    assert Run.objects.filter(status=RunStatus.LOST).count() == 0
    assert Run.objects.exclude(overrun_at=None).count() == 3


def test_a_closed_gate_names_the_overrunning_run(run, clock, org):
    from tests.ci.clients import bearer, token_for

    beat(clock, run, at(10, 12, 5))
    watch_runs()

    response = bearer(token_for(org["infra"])).get(f"/api/v1/jobs/{run.job_id}/gate")

    assert response.status_code == 423
    overrun = [r for r in response.json()["reasons"] if r["code"] == "overrun"]
    assert overrun[0]["message"].startswith(
        f"Run #{run.pk} of job #{run.job_id} is still running 5 min"
    )


def test_a_closed_gate_names_the_overrunning_run_with_the_process_caches_off(
    run, clock, org, settings
):
    # On PostgreSQL the note's probe is asked inside the gate's own statement.
    from tests.ci.clients import bearer, token_for

    settings.CLEARWAY_PROCESS_CACHES = False
    beat(clock, run, at(10, 12, 5))
    watch_runs()

    response = bearer(token_for(org["infra"])).get(f"/api/v1/jobs/{run.job_id}/gate")

    assert response.status_code == 423
    assert [r["code"] for r in response.json()["reasons"]] == ["outside_window", "overrun"]


def test_the_watcher_wakes_when_refusing_traffic_begins_and_asks_the_run_to_stop(run, clock):
    # 2,000 students due 2030-12-12 12:10: their traffic refuses from 12-10 12:10.
    builders.deadline(due=at(12, 12, 10), cohort_size=2000, systems=("grading-api",))
    beat(clock, run, at(10, 12, 1))
    watch_runs()
    beat(clock, run, at(10, 12, 9))
    clock.move_to(at(10, 12, 10))

    watch_runs()

    run.refresh_from_db()
    assert run.stop_requested_at == at(10, 12, 10)
    assert run.stop_requested_by == "clearway"
    texts = [d.text for d in notices("run_overrun") if d.channel == "email:infra@example.org"]
    assert len(texts) == 2
    assert "2,000 students are expected now" in texts[1]


def test_traffic_published_during_an_overrun_has_the_run_asked_to_stop_when_it_begins(run, clock):
    beat(clock, run, at(10, 12, 1))
    watch_runs()  # the first overrun notice: no traffic in sight yet
    clock.move_to(at(10, 12, 10))
    # Then 2,000 students due 2030-12-12 12:20: their traffic refuses from 12-10 12:20.
    builders.deadline(due=at(12, 12, 20), cohort_size=2000, systems=("grading-api",))
    minute = at(10, 12, 11)
    while minute <= at(10, 12, 20):
        beat(clock, run, minute)  # a heartbeat just before each minutely watch
        watch_runs()
        minute += timedelta(minutes=1)

    run.refresh_from_db()
    assert run.stop_requested_at == at(10, 12, 20)
    assert run.stop_requested_by == "clearway"


def test_the_runs_own_key_finds_the_first_run_when_the_api_no_longer_keeps_it(
    job, requester, clock
):
    clock.move_to(at(10, 9))
    first, created = run_start(job_id=job.pk, user=requester, idempotency_key="pipeline-812")

    again, created_again = run_start(job_id=job.pk, user=requester, idempotency_key="pipeline-812")

    assert (created, created_again) == (True, False)
    assert again.pk == first.pk

"""Successful task results are pruned per function by the daily upkeep, not by the monitor."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django_q.models import Failure, Success, Task
from django_q.tasks import async_task

from scheduling.services.task_results import KEEP_PER_FUNCTION, task_results_prune
from scheduling.tasks import refresh_horizon

pytestmark = pytest.mark.django_db

NOW = datetime(2030, 12, 1, 3, 0, tzinfo=UTC)


def result(func: str, *, minutes_ago: int, success: bool = True) -> Task:
    moment = NOW - timedelta(minutes=minutes_ago)
    return Task.objects.create(
        id=uuid.uuid4().hex,
        name=f"{func}-{minutes_ago}",
        func=func,
        started=moment,
        stopped=moment,
        success=success,
    )


def test_the_prune_keeps_the_newest_results_of_each_function():
    for minutes in range(5):
        result("scheduling.tasks.send_delivery", minutes_ago=minutes)
    result("scheduling.tasks.heartbeat", minutes_ago=30)

    deleted = task_results_prune(keep=2)

    assert deleted == 3
    kept = sorted(Success.objects.values_list("func", "name"))
    assert kept == [
        ("scheduling.tasks.heartbeat", "scheduling.tasks.heartbeat-30"),
        ("scheduling.tasks.send_delivery", "scheduling.tasks.send_delivery-0"),
        ("scheduling.tasks.send_delivery", "scheduling.tasks.send_delivery-1"),
    ]


def test_a_burst_of_one_task_never_evicts_the_heartbeat_readyz_reads():
    result("scheduling.tasks.heartbeat", minutes_ago=1)
    for _ in range(10):
        result("scheduling.tasks.send_delivery", minutes_ago=0)

    task_results_prune(keep=3)

    assert Success.objects.filter(func="scheduling.tasks.heartbeat").exists()


def test_the_prune_leaves_failures_alone():
    for minutes in range(3):
        result("scheduling.tasks.send_delivery", minutes_ago=minutes, success=False)

    assert task_results_prune(keep=1) == 0
    assert Failure.objects.count() == 3


def test_the_daily_upkeep_prunes_task_results():
    Task.objects.bulk_create(
        Task(
            id=uuid.uuid4().hex,
            name=f"delivery-{n}",
            func="scheduling.tasks.send_delivery",
            started=NOW - timedelta(seconds=n),
            stopped=NOW - timedelta(seconds=n),
            success=True,
        )
        for n in range(KEEP_PER_FUNCTION + 1)
    )

    refresh_horizon()

    assert Success.objects.count() == KEEP_PER_FUNCTION
    assert not Success.objects.filter(name=f"delivery-{KEEP_PER_FUNCTION}").exists()


def test_the_monitor_saves_a_result_without_pruning_the_others():
    assert settings.Q_CLUSTER["save_limit"] == 0
    for minutes in range(3):
        result("scheduling.tasks.heartbeat", minutes_ago=minutes + 1)

    async_task("scheduling.tasks.heartbeat", sync=True)

    assert Success.objects.filter(func="scheduling.tasks.heartbeat").count() == 4

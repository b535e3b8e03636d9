"""Inline tasks (CLEARWAY_TASKS_SYNC) run one at a time, as a worker runs them."""

import pytest
from django.db import transaction

from scheduling.queue import enqueue

pytestmark = pytest.mark.django_db(transaction=True)

RAN: list[str] = []
HERE = "tests.scheduling.test_inline_tasks"


def outer_task() -> None:
    RAN.append("outer starts")
    with transaction.atomic():
        enqueue(f"{HERE}.inner_task", "first")
    with transaction.atomic():
        enqueue(f"{HERE}.inner_task", "second")
    RAN.append("outer ends")


def inner_task(name: str) -> None:
    RAN.append(name)


def failing_task() -> None:
    with transaction.atomic():
        enqueue(f"{HERE}.inner_task", "queued before the failure")
    raise RuntimeError("the task failed")


@pytest.fixture(autouse=True)
def fresh_record():
    RAN.clear()


def test_a_task_queued_by_a_running_task_waits_until_it_returns():
    with transaction.atomic():
        enqueue(f"{HERE}.outer_task")

    assert RAN == ["outer starts", "outer ends", "first", "second"]


def test_everything_queued_has_run_when_the_change_returns():
    with transaction.atomic():
        enqueue(f"{HERE}.inner_task", "a")
        enqueue(f"{HERE}.outer_task")

    assert RAN == ["a", "outer starts", "outer ends", "first", "second"]


def test_a_failing_task_still_lets_what_it_queued_run_then_fails_the_caller():
    with pytest.raises(RuntimeError, match="the task failed"), transaction.atomic():
        enqueue(f"{HERE}.failing_task")

    assert RAN == ["queued before the failure"]


def test_the_next_change_runs_its_tasks_after_a_failure():
    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue(f"{HERE}.failing_task")
    with transaction.atomic():
        enqueue(f"{HERE}.inner_task", "a later change")

    assert RAN == ["queued before the failure", "a later change"]

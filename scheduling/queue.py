"""Enqueue background work by dotted path, atomically with the caller's transaction.

This module imports only Django, django-q2 and the standard library, so any
service can queue work without importing a task module (tasks import
services, never the other way round).
"""

import threading
from collections import deque
from typing import Any

from django.conf import settings
from django.db import transaction
from django_q.tasks import async_task

_inline = threading.local()


def enqueue(func_path: str, *args: Any, **kwargs: Any) -> None:
    """Queue `func_path(*args, **kwargs)` atomically with the caller's transaction.

    With django-q2's ORM broker the queue row is written in the same
    transaction: a rollback queues nothing and a commit exactly one task, and
    a crash right after the commit cannot lose it. Other brokers (and inline
    mode) send after commit.
    """
    if settings.CLEARWAY_TASKS_SYNC:
        transaction.on_commit(lambda: run_inline(func_path, args, kwargs))
    elif "orm" in settings.Q_CLUSTER:
        async_task(func_path, *args, **kwargs)
    else:
        transaction.on_commit(lambda: async_task(func_path, *args, **kwargs))


def run_inline(func_path: str, args: tuple, kwargs: dict[str, Any]) -> None:
    """Run a task now (CLEARWAY_TASKS_SYNC), as one worker would: one task at a time.

    A task queued by a task running inline waits until that one returns
    rather than running in the middle of it (in its commit). A bulk
    re-evaluation whose jobs change status queues one re-evaluation per job;
    run nested, each would re-evaluate neighbours the outer batch is about to
    evaluate anyway. Everything queued still runs before the first call returns.
    """
    waiting = getattr(_inline, "waiting", None)
    if waiting is not None:
        waiting.append((func_path, args, kwargs))
        return
    _inline.waiting = waiting = deque([(func_path, args, kwargs)])
    failed: Exception | None = None
    try:
        while waiting:
            path, task_args, task_kwargs = waiting.popleft()
            try:
                async_task(path, *task_args, sync=True, **task_kwargs)
            except Exception as exc:  # raised once the rest has run
                failed = failed or exc
    finally:
        _inline.waiting = None
    if failed is not None:
        # As before: a failing inline task fails the change's caller (tests see it).
        raise failed

"""Enqueue background work by dotted path, atomically with the caller's transaction.

This module imports only Django, django-q2 and the standard library, so any
service can queue work without importing a task module (tasks import
services, never the other way round).
"""

import pickle
import threading
from collections import deque
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string
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
                _call(path, task_args, task_kwargs)
            except Exception as exc:  # raised once the rest has run
                failed = failed or exc
    finally:
        _inline.waiting = None
    if failed is not None:
        # As before: a failing inline task fails the change's caller (tests see it).
        raise failed


def _call(func_path: str, args: tuple, kwargs: dict[str, Any]) -> None:
    """Call the task as a worker would, with its arguments as they come off the queue.

    django-q2's own inline mode (`sync=True`) also simulates the cluster:
    queues, threads and a stored result for every task, about 8 ms each,
    which a feed sync's 800 notifications turned into seconds. Nothing here
    reads inline tasks' results; a failure is raised, as django-q2 raises it.
    """
    args, kwargs = pickle.loads(pickle.dumps((args, kwargs)))  # noqa: S301 - our own bytes
    import_string(func_path)(*args, **kwargs)

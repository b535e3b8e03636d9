"""Enqueue background work by dotted path, atomically with the caller's transaction.

This module imports only Django, django-q2 and the standard library, so any
service can queue work without importing a task module (tasks import
services, never the other way round).
"""

from typing import Any

from django.conf import settings
from django.db import transaction
from django_q.tasks import async_task


def enqueue(func_path: str, *args: Any, **kwargs: Any) -> None:
    """Queue `func_path(*args, **kwargs)` atomically with the caller's transaction.

    With django-q2's ORM broker the queue row is written in the same
    transaction: a rollback queues nothing and a commit exactly one task, and
    a crash right after the commit cannot lose it. Other brokers (and inline
    mode) send after commit.
    """
    if settings.CLEARWAY_TASKS_SYNC:
        transaction.on_commit(lambda: async_task(func_path, *args, sync=True, **kwargs))
    elif "orm" in settings.Q_CLUSTER:
        async_task(func_path, *args, **kwargs)
    else:
        transaction.on_commit(lambda: async_task(func_path, *args, **kwargs))

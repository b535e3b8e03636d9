"""Background work: thin django-q2 tasks that take ids and call services.

Tasks are enqueued by dotted path in the transaction that caused them, so a
rolled back change enqueues nothing and services never import task modules.
With CLEARWAY_TASKS_SYNC=1 they run inline (tests, one-process demos).
"""

from typing import Any

from django.conf import settings
from django.db import transaction


def enqueue(func_path: str, *args: Any, **kwargs: Any) -> None:
    """Queue `func_path(*args, **kwargs)` atomically with the caller's transaction.

    With django-q2's ORM broker the queue row is written in the same
    transaction: a rollback queues nothing and a commit exactly one task, and
    a crash right after the commit cannot lose it. Other brokers (and inline
    mode) send after commit.
    """
    from django_q.tasks import async_task

    if settings.CLEARWAY_TASKS_SYNC:
        transaction.on_commit(lambda: async_task(func_path, *args, sync=True, **kwargs))
    elif "orm" in settings.Q_CLUSTER:
        async_task(func_path, *args, **kwargs)
    else:
        transaction.on_commit(lambda: async_task(func_path, *args, **kwargs))


def refresh_horizon() -> None:
    """Daily: extend materialised allowed windows to the rolling horizon."""
    from scheduling.services.calendar import calendar_changes_prune
    from scheduling.services.occurrences import allowed_windows_refresh_all

    allowed_windows_refresh_all()
    calendar_changes_prune()


def reevaluate_jobs(*, start: str, end: str, systems: list[str] | None, reason: str) -> int:
    from datetime import datetime

    from scheduling.services.reevaluation import reevaluate_jobs as run

    return len(
        run(
            start=datetime.fromisoformat(start),
            end=datetime.fromisoformat(end),
            systems=systems,
            reason=reason,
        )
    )


def send_delivery(delivery_id: int) -> bool:
    from scheduling.services.notifications import delivery_send

    return delivery_send(delivery_id=delivery_id)


def retry_deliveries() -> int:
    """Every minute: send deliveries whose retry is due."""
    from scheduling.services.notifications import deliveries_retry_due

    return deliveries_retry_due()


def notify_upcoming_windows() -> int:
    """Every 15 minutes: tell teams about approved windows starting within 24 h."""
    from scheduling.services.notifications import notify_upcoming_windows as run

    return run()


def heartbeat() -> str:
    """Every minute: proves a worker is alive (read by /readyz)."""
    return "ok"

"""Background work: thin django-q2 tasks that take ids and call services.

Tasks are enqueued by dotted path (`scheduling.queue.enqueue`) in the
transaction that caused them, so a rolled back change enqueues nothing and
services never import task modules. With CLEARWAY_TASKS_SYNC=1 they run
inline (tests, one-process demos).
"""

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from scheduling.calendar_feeds.stored import feed_texts_prune
from scheduling.db import retry_on_conflict
from scheduling.services import notifications, passing, reevaluation
from scheduling.services.calendar import calendar_changes_prune
from scheduling.services.calendar_batch import calendar_batch
from scheduling.services.freeze import freezes_refresh_horizon
from scheduling.services.occurrences import allowed_windows_refresh_all
from scheduling.services.task_results import task_results_prune


def refresh_horizon() -> None:
    """Daily: roll every materialised rule on to the rolling horizon, then prune.

    The allowed windows, the freezes and the apps' own rolls
    (CLEARWAY_HORIZON_ROLLS: recurring blackouts) go in one transaction and
    one calendar change, so the jobs the roll reaches are evaluated once,
    against all of it (never against new blackouts and last day's allowed
    windows). The apps built on scheduling add their daily upkeep through
    CLEARWAY_DAILY_TASKS; both are dotted paths, so scheduling imports none of them.
    """
    _roll_horizon(now=timezone.now())
    calendar_changes_prune()
    feed_texts_prune()
    task_results_prune()
    for path in settings.CLEARWAY_DAILY_TASKS:
        import_string(path)()


@retry_on_conflict
def _roll_horizon(*, now: datetime) -> None:
    # One transaction for every source: a deadlock or serialization failure
    # would otherwise lose the whole day's roll, so it is tried again.
    with transaction.atomic(), calendar_batch(reason="daily horizon roll"):
        allowed_windows_refresh_all(now=now)
        freezes_refresh_horizon(now=now)
        for path in settings.CLEARWAY_HORIZON_ROLLS:
            import_string(path)(now=now)


def reevaluate_jobs(*, start: str, end: str, systems: list[str] | None, reason: str) -> int:
    return len(
        reevaluation.reevaluate_jobs(
            start=datetime.fromisoformat(start),
            end=datetime.fromisoformat(end),
            systems=systems,
            reason=reason,
        )
    )


def reevaluate_windows(*, windows: list[list], reason: str) -> int:
    """One task for a bulk calendar change: [[start, end, systems or None], ...]."""
    return len(
        reevaluation.reevaluate_windows(
            windows=[
                (datetime.fromisoformat(start), datetime.fromisoformat(end), systems)
                for start, end, systems in windows
            ],
            reason=reason,
        )
    )


def reevaluate_passed() -> int:
    """Every 15 minutes: jobs held by a window that has since ended are evaluated again."""
    return len(passing.jobs_reevaluate_passed())


def send_delivery(delivery_id: int) -> bool:
    return notifications.delivery_send(delivery_id=delivery_id)


def retry_deliveries() -> int:
    """Every minute: send deliveries whose retry is due."""
    return notifications.deliveries_retry_due()


def notify_upcoming_windows() -> int:
    """Every 15 minutes: tell teams about approved windows starting within 24 h."""
    return notifications.notify_upcoming_windows()


def heartbeat() -> str:
    """Every minute: proves a worker is alive (read by /readyz)."""
    return "ok"

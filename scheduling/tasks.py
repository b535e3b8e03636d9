"""Background work: thin django-q2 tasks that take ids and call services.

Tasks are enqueued by dotted path (`scheduling.queue.enqueue`) in the
transaction that caused them, so a rolled back change enqueues nothing and
services never import task modules. With CLEARWAY_TASKS_SYNC=1 they run
inline (tests, one-process demos).
"""

from datetime import datetime

from django.utils import timezone

from scheduling.services import notifications, reevaluation
from scheduling.services.calendar import calendar_changes_prune
from scheduling.services.freeze import freezes_refresh_horizon
from scheduling.services.occurrences import allowed_windows_refresh_all


def refresh_horizon() -> None:
    """Daily: extend materialised allowed windows to the rolling horizon, and prune."""
    # Imported here: the integrations build on scheduling, not the other way round.
    from integrations.services import github_deliveries_prune

    allowed_windows_refresh_all()
    freezes_refresh_horizon()
    calendar_changes_prune()
    github_deliveries_prune(now=timezone.now())


def reevaluate_jobs(*, start: str, end: str, systems: list[str] | None, reason: str) -> int:
    return len(
        reevaluation.reevaluate_jobs(
            start=datetime.fromisoformat(start),
            end=datetime.fromisoformat(end),
            systems=systems,
            reason=reason,
        )
    )


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

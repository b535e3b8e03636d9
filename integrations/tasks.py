"""Background work of the integrations: thin tasks that call services."""

from django.utils import timezone

from integrations.services import deployment_reviews_process_due, github_deliveries_prune


def process_deployment_reviews() -> int:
    """Every minute: answer GitHub deployment reviews whose window opened or closed."""
    return deployment_reviews_process_due()


def prune_deliveries() -> int:
    """Daily (CLEARWAY_DAILY_TASKS): forget GitHub deliveries past their keep period."""
    return github_deliveries_prune(now=timezone.now())

"""Background work of the integrations: thin tasks that call services."""

from integrations.services import deployment_reviews_process_due


def process_deployment_reviews() -> int:
    """Every minute: answer GitHub deployment reviews whose window opened or closed."""
    return deployment_reviews_process_due()

"""Project checks run by `manage.py check --deploy`."""

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def feed_allowlist_in_production(app_configs, **kwargs):
    """Private networks open to deadline feeds are for tests and on-premise LMSes only."""
    if settings.CLEARWAY_FEED_ALLOWED_NETWORKS and not settings.DEBUG:
        return [
            Warning(
                "CLEARWAY_FEED_ALLOWED_NETWORKS lets deadline feeds reach private addresses "
                f"({', '.join(settings.CLEARWAY_FEED_ALLOWED_NETWORKS)}).",
                hint="Leave it empty in production unless an on-premise LMS needs it; then "
                "list only that host's network and silence clearway.W001.",
                id="clearway.W001",
            )
        ]
    return []

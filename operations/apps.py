from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """What actually runs: job runs, overruns, observed locks, saturation and metrics.

    Builds on `scheduling` (jobs, gate, notifications); `scheduling` never imports it.
    """

    name = "operations"
    verbose_name = "Operations"
    default_auto_field = "django.db.models.BigAutoField"

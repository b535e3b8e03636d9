from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "scheduling"
    verbose_name = "Scheduling"

    def ready(self) -> None:
        # Registers the OpenAPI description of bearer tokens.
        from scheduling import checks  # noqa: F401
        from scheduling.api import schema  # noqa: F401

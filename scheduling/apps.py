from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "scheduling"
    verbose_name = "Scheduling"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        # Registers the OpenAPI description of bearer tokens.
        from scheduling import checks, token_cache  # noqa: F401
        from scheduling.api import schema  # noqa: F401
        from scheduling.models import ApiToken

        # A token changed or deleted in this process is re-read at once.
        post_save.connect(token_cache.forget_saved, sender=ApiToken)
        post_delete.connect(token_cache.forget_saved, sender=ApiToken)

from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "scheduling"
    verbose_name = "Scheduling"

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_delete, post_save, pre_delete

        # Registers the OpenAPI description of bearer tokens.
        from scheduling import checks, receivers, token_cache  # noqa: F401
        from scheduling.api import schema  # noqa: F401
        from scheduling.models import ApiToken

        # A token changed or deleted in this process is re-read at once.
        post_save.connect(token_cache.forget_saved, sender=ApiToken)
        post_delete.connect(token_cache.forget_saved, sender=ApiToken)
        # A deactivated or deleted account's tokens are revoked.
        post_save.connect(receivers.account_saved, sender=get_user_model())
        pre_delete.connect(receivers.account_deleting, sender=get_user_model())

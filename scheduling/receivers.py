"""Receivers of Django's own model signals: thin, each calls a service."""

from scheduling.services.tokens import api_tokens_revoke_made_by


def account_saved(sender, instance, created: bool = False, **kwargs) -> None:
    """A deactivated account's tokens die with it (the admin's "active" box, a script)."""
    if not created and not instance.is_active:
        api_tokens_revoke_made_by(user=instance)


def account_deleting(sender, instance, **kwargs) -> None:
    """Before the tokens' `created_by` is emptied, which would hide who made them."""
    api_tokens_revoke_made_by(user=instance)

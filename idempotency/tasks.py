"""Background work of the idempotency app (a django-q2 schedule, hourly)."""

from django.utils import timezone


def purge() -> int:
    from idempotency.services import idempotency_keys_purge

    return idempotency_keys_purge(now=timezone.now())

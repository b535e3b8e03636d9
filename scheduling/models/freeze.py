from django.conf import settings
from django.db import models


class Freeze(models.Model):
    """The organisation-wide change freeze: while active, every job is refused.

    A single row (pk=1); `since` and `by` say who switched it and when.
    """

    active = models.BooleanField(default=False)
    reason = models.TextField(blank=True)
    since = models.DateTimeField(null=True, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(pk=1), name="freeze_singleton")]

    def __str__(self) -> str:
        return f"Freeze {'on' if self.active else 'off'}"

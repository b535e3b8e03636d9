from django.conf import settings
from django.db import models

from scheduling.models.catalogue import System


class Freeze(models.Model):
    """A change freeze: while one covers an instant, every gate on its systems is
    closed and new bookings there are refused.

    It is a gate condition, never a status change: booked jobs keep their
    approval and run again once it ends. One-off (`start`..`end`, no `end`
    meaning until it is lifted) or recurring (`rrule` repeats `start`..`end` in
    `timezone`). No systems means all systems. Rows are the history and are
    never deleted: the manual switch creates a freeze starting now and lifting
    it sets `end`; a scheduled freeze is called off with `cancelled_at`.
    """

    reason = models.TextField(blank=True)
    start = models.DateTimeField()
    end = models.DateTimeField(null=True, blank=True)
    timezone = models.CharField(max_length=64, default="UTC")
    rrule = models.CharField(max_length=500, blank=True)
    systems = models.ManyToManyField(System, related_name="freezes", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    lifted_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # When its reason was last edited: the feeds' ETag and the event's
    # LAST-MODIFIED move with it.
    reason_edited_at = models.DateTimeField(null=True, blank=True)
    # How far a rule without COUNT or UNTIL is expanded: the planning horizon
    # when it was scheduled, rolled on by the daily horizon refresh. Stored, so
    # the timeline and a rebuild expand the same stretches.
    expanded_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["start", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__isnull=True) | models.Q(start__lt=models.F("end")),
                name="freeze_start_lt_end",
            ),
            models.CheckConstraint(
                condition=models.Q(rrule="") | models.Q(end__isnull=False),
                name="freeze_recurring_has_end",
            ),
        ]
        indexes = [
            # The freezes that may apply: not called off, by start.
            models.Index(
                fields=["start"], name="freeze_live_idx", condition=models.Q(cancelled_at=None)
            )
        ]

    def __str__(self) -> str:
        return f"Freeze from {self.start:%Y-%m-%d %H:%M} ({self.reason or 'no reason'})"

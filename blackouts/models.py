from django.conf import settings
from django.db import models

from scheduling.choices import Severity
from scheduling.models import System, Team


class Blackout(models.Model):
    """A configured period in which change is refused or needs extra review.

    One-off (`start`..`end`) or recurring: the first occurrence is
    `start`..`end` in `timezone` and `rrule` repeats it there, minus `exdates`
    (occurrence starts, stored as UTC ISO strings). No systems means all
    systems (`applies_to_all`, kept by the services for a cheap query).
    """

    title = models.CharField(max_length=200)
    reason = models.TextField(blank=True)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="blackouts")
    systems = models.ManyToManyField(System, related_name="blackouts", blank=True)
    applies_to_all = models.BooleanField(default=True, editable=False)
    start = models.DateTimeField()
    end = models.DateTimeField()
    timezone = models.CharField(max_length=64, default="UTC")
    rrule = models.CharField(max_length=500, blank=True)
    exdates = models.JSONField(default=list, blank=True)
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.REFUSE)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)
    materialised_until = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["start", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(start__lt=models.F("end")), name="blackout_start_lt_end"
            )
        ]

    def __str__(self) -> str:
        return self.title


class BlackoutOccurrence(models.Model):
    """One materialised occurrence of a blackout, in UTC."""

    blackout = models.ForeignKey(Blackout, on_delete=models.CASCADE, related_name="occurrences")
    start = models.DateTimeField()
    end = models.DateTimeField()

    class Meta:
        ordering = ["start"]
        # Overlap queries: start < :end AND end > :start.
        indexes = [models.Index(fields=["start"], name="blackout_occurrence_start_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(start__lt=models.F("end")),
                name="blackout_occurrence_start_lt_end",
            ),
            models.UniqueConstraint(
                fields=["blackout", "start"], name="blackout_occurrence_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.blackout} {self.start:%Y-%m-%d %H:%M}"

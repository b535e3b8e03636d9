from datetime import timedelta

from django.conf import settings
from django.db import models

from scheduling.choices import Impact
from scheduling.models.catalogue import System, Team


class StandardChange(models.Model):
    """A team's pre-approved, repeatable change (ServiceNow's "standard change").

    A job booked from it takes its title, systems and impact, lasts at most
    `max_duration` and may repeat by `rrule` in `timezone`. It is approved at
    once when its decision is clear; anything that flags or refuses it sends
    it through review like a normal job.
    """

    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="standard_changes")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    systems = models.ManyToManyField(System, related_name="standard_changes")
    impact = models.CharField(max_length=20, choices=Impact.choices)
    max_duration = models.DurationField()
    timezone = models.CharField(max_length=64, default="UTC")
    rrule = models.CharField(max_length=500, blank=True)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["team_id", "title", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(max_duration__gt=timedelta(0)),
                name="standard_change_positive_duration",
            )
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.team_id and self.team.slug})"

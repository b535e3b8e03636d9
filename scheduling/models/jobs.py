from django.conf import settings
from django.db import models

from scheduling.choices import ChangeType, Decision, Impact, JobStatus
from scheduling.models.catalogue import System, Team


class MaintenanceJob(models.Model):
    """A team's booking of maintenance on some systems for a window.

    `start`/`end` are the first occurrence, stored in UTC and entered in
    `timezone`; a bounded `rrule` repeats it in that zone. `impacted_systems`
    is the booked systems plus everything depending on them, kept by the
    services so collision queries stay simple joins. `decision`, `findings` and
    `evaluated_at` are the last evaluation stored; a batch re-evaluation that
    finds what is stored writes nothing (so the feeds' ETags stay).
    `version` grows with every change (calendar feeds use it as SEQUENCE).
    """

    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="jobs")
    systems = models.ManyToManyField(System, related_name="jobs")
    impacted_systems = models.ManyToManyField(System, related_name="impacting_jobs", blank=True)
    start = models.DateTimeField()
    end = models.DateTimeField()
    timezone = models.CharField(max_length=64, default="UTC")
    rrule = models.CharField(max_length=500, blank=True)
    impact = models.CharField(max_length=20, choices=Impact.choices)
    emergency = models.BooleanField(default=False)
    justification = models.TextField(blank=True)
    # Booked from a team's standard change: approved at once when clear.
    template = models.ForeignKey(
        "scheduling.StandardChange",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="jobs",
    )
    status = models.CharField(max_length=20, choices=JobStatus.choices, default=JobStatus.DRAFT)
    decision = models.CharField(max_length=10, choices=Decision.choices, blank=True)
    findings = models.JSONField(default=list, blank=True)
    evaluated_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)
    review_round = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["start", "pk"]
        indexes = [models.Index(fields=["status", "start"], name="job_status_start_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(start__lt=models.F("end")), name="job_start_lt_end"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"

    @property
    def change_type(self) -> str:
        """standard, normal or emergency: told by what the job is, never by its title."""
        return change_type_of(emergency=self.emergency, template_id=self.template_id)


def change_type_of(*, emergency: bool, template_id: int | None) -> str:
    if emergency:
        return ChangeType.EMERGENCY
    return ChangeType.STANDARD if template_id else ChangeType.NORMAL


class JobOccurrence(models.Model):
    """One materialised window of a job (a one-off job has exactly one)."""

    job = models.ForeignKey(MaintenanceJob, on_delete=models.CASCADE, related_name="occurrences")
    start = models.DateTimeField()
    end = models.DateTimeField()

    class Meta:
        ordering = ["start"]
        # Overlap queries: start < :end AND end > :start.
        indexes = [
            models.Index(fields=["start"], name="job_occurrence_start_idx"),
            models.Index(fields=["job", "start"], name="job_occurrence_job_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(start__lt=models.F("end")), name="job_occurrence_start_lt_end"
            ),
            models.UniqueConstraint(fields=["job", "start"], name="job_occurrence_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.job} {self.start:%Y-%m-%d %H:%M}"

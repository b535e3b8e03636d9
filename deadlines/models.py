from django.conf import settings
from django.db import models

from scheduling.models import System, Team


class Cohort(models.Model):
    """A named group of students with a size, reused by many deadlines."""

    name = models.CharField(max_length=200, unique=True)
    size = models.PositiveIntegerField()
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="cohorts")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.size:,})"


class DeadlineSource(models.TextChoices):
    MANUAL = "manual", "Published in Clearway"
    FEED = "feed", "Remote feed"


class Deadline(models.Model):
    """An assignment deadline: a cohort of `cohort_size` students due at `due`.

    It creates a high-traffic window [due - lead, due + tail) on `systems`
    (settings CLEARWAY_TRAFFIC_LEAD/TAIL). `cohort_size` is copied from the
    cohort when there is one, so the traffic query needs no join. A withdrawn
    deadline keeps its row (feeds and history need it) but no longer counts.
    """

    title = models.CharField(max_length=300)
    course = models.CharField(max_length=200, blank=True)
    cohort = models.ForeignKey(
        Cohort, null=True, blank=True, on_delete=models.PROTECT, related_name="deadlines"
    )
    cohort_size = models.PositiveIntegerField()
    due = models.DateTimeField()
    systems = models.ManyToManyField(System, related_name="deadlines")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="deadlines")
    source = models.CharField(
        max_length=10, choices=DeadlineSource.choices, default=DeadlineSource.MANUAL
    )
    external_uid = models.CharField(max_length=500, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["due", "pk"]
        indexes = [
            # Traffic query: due BETWEEN :start - tail AND :end + lead, not withdrawn.
            models.Index(
                fields=["due"],
                name="deadline_live_due_idx",
                condition=models.Q(withdrawn_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def cohort_name(self) -> str:
        return self.cohort.name if self.cohort_id else ""

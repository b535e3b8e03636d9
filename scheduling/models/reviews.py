from django.conf import settings
from django.db import models

from scheduling.choices import ReviewStatus
from scheduling.models.catalogue import Team
from scheduling.models.jobs import MaintenanceJob


class ReviewRequest(models.Model):
    """One team's review of one job, in one review round.

    A job is re-reviewed in a new `round` when it is re-scheduled or when a
    later calendar change flags it; the older round's open requests are
    superseded. `reason` says why this team was asked.
    """

    job = models.ForeignKey(MaintenanceJob, on_delete=models.CASCADE, related_name="reviews")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="review_requests")
    round = models.PositiveIntegerField(default=1)
    reason = models.CharField(max_length=300)
    status = models.CharField(
        max_length=12, choices=ReviewStatus.choices, default=ReviewStatus.PENDING
    )
    comment = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # "job_id", not "job": ordering by the relation joins the jobs table
        # (for its own ordering), so reading a job's reviews waited on a lock
        # held on that table, and a booking committed just before one answered
        # 503 (make soak: a booking stored but not answered 201).
        ordering = ["job_id", "round", "team__slug"]
        constraints = [
            models.UniqueConstraint(fields=["job", "team", "round"], name="review_once_per_round")
        ]
        indexes = [
            # A team's inbox: its pending requests.
            models.Index(
                fields=["team", "created_at"],
                name="review_inbox_idx",
                condition=models.Q(status=ReviewStatus.PENDING),
            )
        ]

    def __str__(self) -> str:
        return f"{self.team} on {self.job} (round {self.round}): {self.status}"

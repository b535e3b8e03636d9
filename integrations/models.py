"""What the GitHub App receives and answers.

`integrations` builds on `scheduling` (jobs, systems, the gate, the audit
trail, deliveries); `scheduling` never imports it.
"""

from django.core.validators import RegexValidator
from django.db import models

from integrations.choices import DeploymentReviewState


class GitHubEnvironmentMapping(models.Model):
    """Which systems a deployment to (repository, environment) touches.

    Used when the deployment does not name its job (`clearway_job` in the
    deployment payload): the job is the approved one on these systems whose
    window contains now. When the deployment does name a job, that job must
    touch one of these systems, so one repository cannot borrow another's job.
    """

    repository = models.CharField(
        max_length=200,
        help_text="owner/name, as GitHub spells it (case does not matter).",
        # A pasted URL would never match GitHub's `full_name`, silently.
        validators=[
            RegexValidator(
                r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$",
                "The repository is owner/name, e.g. uni/grading, not its URL.",
            )
        ],
    )
    environment = models.CharField(max_length=255, help_text="The GitHub environment's name.")
    systems = models.ManyToManyField("scheduling.System", related_name="github_mappings")

    class Meta:
        ordering = ["repository", "environment"]
        verbose_name = "GitHub environment mapping"
        constraints = [
            models.UniqueConstraint(
                models.functions.Lower("repository"),
                models.functions.Lower("environment"),
                name="github_mapping_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.repository} → {self.environment}"


class GitHubDelivery(models.Model):
    """One webhook GitHub sent, by its `X-GitHub-Delivery` id.

    Stored only after the signature verified. The id is unique, so a
    redelivery (GitHub's own, or a replay) is recognised and changes nothing.
    """

    delivery_id = models.CharField(max_length=100, unique=True)
    event = models.CharField(max_length=60)
    action = models.CharField(max_length=60, blank=True)
    installation_id = models.BigIntegerField(null=True, blank=True)
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["-received_at"]
        verbose_name = "GitHub delivery"
        verbose_name_plural = "GitHub deliveries"

    def __str__(self) -> str:
        return f"{self.event}.{self.action} {self.delivery_id}"


class DeploymentReview(models.Model):
    """GitHub asked whether a workflow run may deploy to an environment.

    Answered at once (approved or rejected), or, when the job is approved but
    its window has not opened, kept `waiting` until `next_check_at`; the
    every-minute sweep then approves it, or rejects it when the window passed
    or the job left approval. The answer itself is a scheduling Delivery on
    channel `github:<id>`, so it is retried with backoff and a failure shows
    in the admin like any notification.
    """

    delivery = models.OneToOneField(
        GitHubDelivery, on_delete=models.PROTECT, related_name="deployment_review"
    )
    installation_id = models.BigIntegerField()
    repository = models.CharField(max_length=200)
    environment = models.CharField(max_length=255)
    deployment_id = models.BigIntegerField(null=True, blank=True)
    callback_url = models.URLField(max_length=500)
    job = models.ForeignKey(
        "scheduling.MaintenanceJob",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="github_reviews",
    )
    state = models.CharField(
        max_length=10, choices=DeploymentReviewState.choices, default=DeploymentReviewState.WAITING
    )
    comment = models.TextField(blank=True)
    window_start = models.DateTimeField(null=True, blank=True)
    window_end = models.DateTimeField(null=True, blank=True)
    next_check_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The sweep's "which waiting reviews are due" query.
            models.Index(
                fields=["next_check_at"],
                name="deployment_review_due_idx",
                condition=models.Q(state="waiting"),
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state="waiting", next_check_at__isnull=False)
                | ~models.Q(state="waiting"),
                name="deployment_review_waiting_has_check",
            ),
            # GitHub asks once per deployment; a second review is a replay.
            models.UniqueConstraint(
                fields=["repository", "deployment_id"],
                condition=models.Q(deployment_id__isnull=False),
                name="deployment_review_once_per_deployment",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.repository} → {self.environment} ({self.state})"

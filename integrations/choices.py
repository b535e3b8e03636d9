from django.db import models


class DeploymentReviewState(models.TextChoices):
    """Where a GitHub deployment review stands; approved and rejected are final."""

    WAITING = "waiting", "Waiting for the window"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"

from django.db import models

from scheduling.choices import DeliveryStatus


class Delivery(models.Model):
    """One notification to one channel (an email address or a webhook).

    `key` + `channel` is unique, so an event reaches each channel once even if
    the task that sends it runs twice. Failures are recorded here and retried
    with backoff until `attempts` reaches the limit, then marked failed.
    """

    key = models.CharField(max_length=200)
    channel = models.CharField(max_length=500)
    event = models.CharField(max_length=40)
    job = models.ForeignKey(
        "scheduling.MaintenanceJob",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    subject = models.CharField(max_length=300)
    text = models.TextField()
    payload = models.JSONField(default=dict)
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["key", "channel"], name="delivery_once_per_channel")
        ]
        indexes = [
            # The retry sweep: pending deliveries whose next attempt is due.
            models.Index(
                fields=["next_attempt_at"],
                name="delivery_due_idx",
                condition=models.Q(status=DeliveryStatus.PENDING),
            )
        ]

    def __str__(self) -> str:
        return f"{self.event} -> {self.channel} ({self.status})"

from django.conf import settings
from django.db import models

from scheduling.models.jobs import MaintenanceJob
from scheduling.models.tokens import ApiToken


class JobEvent(models.Model):
    """One entry of a job's audit trail. Written once, never edited.

    `actor` is empty when Clearway itself acted (a re-evaluation); `token` is
    the team token the actor (its team's CI account) acted through, so its
    maker is known too; `findings` and `decision` are the evaluation at that
    moment.
    """

    job = models.ForeignKey(MaintenanceJob, on_delete=models.CASCADE, related_name="history")
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    token = models.ForeignKey(
        ApiToken, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=40)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    decision = models.CharField(max_length=10, blank=True)
    reason = models.TextField(blank=True)
    findings = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["job", "at"], name="job_event_job_idx")]

    def __str__(self) -> str:
        return f"{self.job_id} {self.action} {self.from_status}->{self.to_status}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("The audit trail is append-only.")
        super().save(*args, **kwargs)

    @property
    def actor_name(self) -> str:
        return self.actor.get_username() if self.actor else "system"

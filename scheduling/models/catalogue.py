from django.conf import settings
from django.core.validators import URLValidator
from django.db import models

from scheduling.choices import WebhookFormat

# Notifications are POSTed: an ftp:// address would be accepted and never reached.
webhook_address = URLValidator(schemes=["http", "https"])


class Team(models.Model):
    """People who own systems and review changes to them.

    Notifications go to `email_addresses` and to `webhook_url` (a JSON POST
    in `webhook_format`, signed per Standard Webhooks with the team's secret).
    The secret is kept sealed (scheduling.sealing): signing needs it back, so
    it cannot be a digest, but a copy of the table alone does not reveal it.
    """

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=200)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="teams", blank=True)
    email_addresses = models.JSONField(default=list, blank=True)
    webhook_url = models.URLField(blank=True, validators=[webhook_address])
    webhook_format = models.CharField(
        max_length=10, choices=WebhookFormat.choices, default=WebhookFormat.CLEARWAY
    )
    webhook_secret_sealed = models.TextField(blank=True, editable=False)
    webhook_secret_created = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class System(models.Model):
    """Something maintenance touches and traffic hits, such as `grading-db`.

    `depends_on` points at what this system needs: maintenance on `grading-db`
    impacts every system that depends on it, transitively. The optional
    maintenance window (RRULE + local start time + duration + zone) lists the
    only hours when maintenance on it is allowed.
    """

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=200)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="systems")
    depends_on = models.ManyToManyField(
        "self", symmetrical=False, related_name="dependents", blank=True
    )
    window_rrule = models.CharField("allowed window rule", max_length=500, blank=True)
    window_start_time = models.TimeField("allowed window starts at", null=True, blank=True)
    window_duration = models.DurationField("allowed window lasts", null=True, blank=True)
    window_timezone = models.CharField("allowed window zone", max_length=64, blank=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug

    @property
    def has_maintenance_window(self) -> bool:
        return bool(self.window_rrule)


class AllowedWindowOccurrence(models.Model):
    """One materialised occurrence of a system's allowed maintenance window."""

    system = models.ForeignKey(System, on_delete=models.CASCADE, related_name="allowed_windows")
    start = models.DateTimeField()
    end = models.DateTimeField()

    class Meta:
        ordering = ["start"]
        indexes = [models.Index(fields=["system", "start"], name="allowed_window_range_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(start__lt=models.F("end")), name="allowed_window_start_lt_end"
            )
        ]

    def __str__(self) -> str:
        return f"{self.system} {self.start:%Y-%m-%d %H:%M}"

from datetime import timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from deadlines.choices import DeadlineSource, FeedFormat
from deadlines.limits import COHORT_SIZE_MAX
from scheduling.models import System, Team


def _cohort_size_field(**kwargs) -> models.PositiveIntegerField:
    return models.PositiveIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(COHORT_SIZE_MAX)], **kwargs
    )


def _cohort_size_range(field: str, name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=models.Q(**{f"{field}__gte": 1, f"{field}__lte": COHORT_SIZE_MAX}), name=name
    )


class Cohort(models.Model):
    """A named group of students with a size, reused by many deadlines."""

    name = models.CharField(max_length=200, unique=True)
    size = _cohort_size_field()
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="cohorts")

    class Meta:
        ordering = ["name"]
        constraints = [_cohort_size_range("size", "cohort_size_range")]

    def __str__(self) -> str:
        return f"{self.name} ({self.size:,})"


# Shorter intervals would hammer an LMS for no gain: deadlines move in days.
MIN_FEED_INTERVAL = timedelta(minutes=5)


class DeadlineFeed(models.Model):
    """A remote calendar (an LMS export) whose events become deadlines of `team`.

    LMS exports carry no cohort size, so the feed gives a default cohort and
    size and default systems; an event may override them (X-CLEARWAY-*
    properties, or the JSON fields). Sync state lives on the row: the last
    attempt, success and error, the validators of the last good response
    (ETag / Last-Modified) and the failure streak, so a failing feed is told
    to its team once per streak. `next_sync_at` is Clearway's own schedule:
    one django-q2 schedule claims due feeds (STYLE habit 4).
    """

    url = models.URLField(max_length=2000)
    format = models.CharField(max_length=4, choices=FeedFormat.choices, default=FeedFormat.ICS)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="deadline_feeds")
    cohort = models.CharField(max_length=200, blank=True, help_text="Default cohort name.")
    cohort_size = _cohort_size_field(help_text="Default cohort size.")
    systems = models.ManyToManyField(System, related_name="deadline_feeds", blank=True)
    interval = models.DurationField(default=timedelta(hours=1))
    enabled = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    next_sync_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_warnings = models.JSONField(default=list, blank=True)
    deadline_count = models.PositiveIntegerField(default=0)
    etag = models.CharField(max_length=500, blank=True)
    last_modified = models.CharField(max_length=100, blank=True)
    failing_since = models.DateTimeField(null=True, blank=True)
    failure_count = models.PositiveIntegerField(default=0)
    failure_notified = models.BooleanField(default=False)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(interval__gte=MIN_FEED_INTERVAL),
                name="deadline_feed_interval_min",
            ),
            _cohort_size_range("cohort_size", "deadline_feed_cohort_size_range"),
        ]
        indexes = [
            # The claiming schedule: enabled feeds with next_sync_at <= now.
            models.Index(
                fields=["next_sync_at"],
                name="deadline_feed_due_idx",
                condition=models.Q(enabled=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_format_display()} feed #{self.pk} of {self.team_id and self.team}"


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
    cohort_size = _cohort_size_field()
    due = models.DateTimeField()
    systems = models.ManyToManyField(System, related_name="deadlines")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="deadlines")
    source = models.CharField(
        max_length=10, choices=DeadlineSource.choices, default=DeadlineSource.MANUAL
    )
    external_uid = models.CharField(max_length=500, blank=True)
    # The name an upload gives its file ("CS201 spring"): re-uploading the same
    # source upserts its deadlines by `external_uid` instead of adding copies.
    upload_source = models.CharField(max_length=200, blank=True)
    feed = models.ForeignKey(
        DeadlineFeed, null=True, blank=True, on_delete=models.SET_NULL, related_name="deadlines"
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["due", "pk"]
        constraints = [
            # The sync's idempotency key: one deadline per event of a feed.
            models.UniqueConstraint(
                fields=["feed", "external_uid"],
                condition=models.Q(feed__isnull=False),
                name="deadline_one_per_feed_event",
            ),
            # The upload's idempotency key: one deadline per row of a team's source.
            models.UniqueConstraint(
                fields=["team", "upload_source", "external_uid"],
                condition=models.Q(source="upload"),
                name="deadline_one_per_upload_row",
            ),
            _cohort_size_range("cohort_size", "deadline_cohort_size_range"),
        ]
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

from django.conf import settings
from django.db import models

from scheduling.models import MaintenanceJob, System


class RunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    ABORTED = "aborted", "Aborted"
    LOST = "lost", "Lost (no heartbeat)"


FINISHED = (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.ABORTED)


class Run(models.Model):
    """One execution of a job's work that CI reported after the gate let it through.

    `window_start`/`window_end` are the booked window the gate opened; a run
    still going after `window_end` is an overrun (`overrun_at`). `next_check_at`
    is when the run watcher must look at it next (window end, heartbeat
    silence, next overrun notice): one django-q2 schedule claims due rows.
    `idempotency_key` makes a retried start return the first run.
    """

    job = models.ForeignKey(MaintenanceJob, on_delete=models.CASCADE, related_name="runs")
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.RUNNING)
    started_at = models.DateTimeField()
    last_heartbeat_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)
    idempotency_key = models.CharField(max_length=200, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    overrun_at = models.DateTimeField(null=True, blank=True)
    overrun_notices = models.PositiveIntegerField(default=0)
    overrun_notified_at = models.DateTimeField(null=True, blank=True)
    # When the next traffic that refuses the job begins (seen by the last
    # overrun check): the watcher wakes up then to ask the run to stop.
    refusing_traffic_at = models.DateTimeField(null=True, blank=True)
    stop_requested_at = models.DateTimeField(null=True, blank=True)
    stop_reason = models.TextField(blank=True)
    stop_requested_by = models.CharField(
        max_length=200, blank=True, help_text="Who asked: a username, or 'clearway'."
    )
    next_check_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(window_start__lt=models.F("window_end")),
                name="run_window_start_lt_end",
            ),
            # A retried start with the same Idempotency-Key finds the first run.
            models.UniqueConstraint(
                fields=["job", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="run_idempotency_key_once_per_job",
            ),
        ]
        indexes = [
            # The run watcher: running runs whose next check is due.
            models.Index(
                fields=["next_check_at"],
                name="run_due_idx",
                condition=models.Q(status="running"),
            ),
            models.Index(fields=["job", "started_at"], name="run_job_idx"),
        ]

    def __str__(self) -> str:
        return f"run #{self.pk} of job #{self.job_id} ({self.status})"

    @property
    def is_overrun(self) -> bool:
        return self.overrun_at is not None


class DatabaseMonitor(models.Model):
    """A system's monitoring connection to its PostgreSQL database.

    The DSN (a read-only role) is stored encrypted and never shown again.
    `next_sample_at` is claimed by the sampler before it connects, so a slow or
    dead database is sampled at most once per interval and never piles up
    tasks. `failing_since` and `saturated_since` make each outage and each
    saturation episode one observation and one alert.
    """

    system = models.OneToOneField(System, on_delete=models.CASCADE, related_name="monitor")
    dsn_encrypted = models.TextField()
    database = models.CharField(
        max_length=200, blank=True, help_text="The database's name, shown instead of the DSN."
    )
    enabled = models.BooleanField(default=True)
    next_sample_at = models.DateTimeField(null=True, blank=True)
    last_sampled_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    failing_since = models.DateTimeField(null=True, blank=True)
    saturated_since = models.DateTimeField(null=True, blank=True)
    connections = models.PositiveIntegerField(null=True, blank=True)
    max_connections = models.PositiveIntegerField(null=True, blank=True)
    lock_waiters = models.PositiveIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["system__slug"]
        indexes = [
            # The sampler: enabled monitors whose next sample is due.
            models.Index(
                fields=["next_sample_at"],
                name="monitor_due_idx",
                condition=models.Q(enabled=True),
            )
        ]

    def __str__(self) -> str:
        return f"monitor of {self.system.slug}"


class ObservationKind(models.TextChoices):
    LOCK = "lock", "Lock blocking writers"
    WAITING = "waiting", "Session waiting on a lock"
    SATURATION = "saturation", "Connections near the limit"
    UNREACHABLE = "unreachable", "Monitored database unreachable"


class Observation(models.Model):
    """What the sampler saw on a monitored database.

    `fingerprint` names the thing seen (a lock: pid, table, mode and the
    holder's transaction start; an outage or a saturation episode: its start),
    so re-seeing it updates `last_seen_at` and alerts nobody again. A lock or
    wait inside an approved job's open window is attributed to the job (and
    its running run); otherwise it is `unbooked`.
    """

    monitor = models.ForeignKey(
        DatabaseMonitor, on_delete=models.CASCADE, related_name="observations"
    )
    system = models.ForeignKey(System, on_delete=models.CASCADE, related_name="observations")
    kind = models.CharField(max_length=12, choices=ObservationKind.choices)
    fingerprint = models.CharField(max_length=300)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    database = models.CharField(max_length=200, blank=True)
    table = models.CharField(max_length=300, blank=True)
    mode = models.CharField(max_length=40, blank=True)
    pid = models.PositiveIntegerField(null=True, blank=True)
    application_name = models.CharField(max_length=200, blank=True)
    query_start = models.DateTimeField(null=True, blank=True)
    held_since = models.DateTimeField(null=True, blank=True)
    waiters = models.PositiveIntegerField(default=0)
    connections = models.PositiveIntegerField(null=True, blank=True)
    max_connections = models.PositiveIntegerField(null=True, blank=True)
    detail = models.TextField(blank=True)
    job = models.ForeignKey(
        MaintenanceJob, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    run = models.ForeignKey(
        Run, null=True, blank=True, on_delete=models.SET_NULL, related_name="observations"
    )
    unbooked = models.BooleanField(default=False)
    alerted = models.BooleanField(default=False)

    class Meta:
        ordering = ["-last_seen_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["monitor", "fingerprint"], name="observation_once_per_fingerprint"
            )
        ]
        indexes = [models.Index(fields=["system", "last_seen_at"], name="observation_system_idx")]

    def __str__(self) -> str:
        return f"{self.kind} on {self.system_id} ({self.fingerprint})"


class TimelineCheck(models.Model):
    """The last comparisons of the stored timeline with a full rebuild (for /metrics).

    A rebuild reads every calendar, too much for each scrape: an hourly task
    runs it and records the outcome here, read by every app process alike.
    """

    checked_at = models.DateTimeField()
    differences = models.PositiveIntegerField()
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ["-checked_at", "-pk"]
        get_latest_by = "checked_at"

    def __str__(self) -> str:
        return f"timeline check {self.checked_at:%Y-%m-%d %H:%M}: {self.differences}"

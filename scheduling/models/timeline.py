from django.db import models

from scheduling.models.catalogue import System


class TimelineKind(models.TextChoices):
    """What a stored interval stands for (the engine's finding kinds, traffic as steps)."""

    TRAFFIC = "traffic", "Traffic level"
    BLACKOUT = "blackout", "Blackout"
    FREEZE = "freeze", "Change freeze"
    MAINTENANCE = "maintenance", "Booked maintenance"
    OUTSIDE_WINDOW = "outside_window", "Outside the allowed window"


class TimelineInterval(models.Model):
    """One stored interval of the busy picture, half-open [start, end), on `origin`.

    `origin` is the system the interval is on (null: every system, as an
    all-systems blackout or the freeze). Dependencies are applied on read by
    one join with TimelineReach, so a change writes each interval once and a
    dependency change rewrites only the reach table.

    A traffic row is one step of the per-system load function: `load` is the
    summed cohort sizes of the deadlines in `detail["deadlines"]`, constant
    over the row. Other rows are one blackout occurrence, one booked job
    window, one gap between allowed windows or the freeze; `source` names the
    row it came from ("blackout:7", "job:42", "system:grading-db", "freeze").
    Title, message and link are copied so findings need no second query.
    """

    origin = models.ForeignKey(
        System, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=TimelineKind.choices)
    start = models.DateTimeField()
    end = models.DateTimeField()
    source = models.CharField(max_length=100)
    severity = models.CharField(max_length=10, blank=True)
    load = models.PositiveIntegerField(default=0)
    impact = models.CharField(max_length=20, blank=True)
    title = models.CharField(max_length=300, blank=True)
    message = models.TextField(blank=True)
    url = models.CharField(max_length=200, blank=True)
    team = models.CharField(max_length=50, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["start", "pk"]
        indexes = [
            # "Rows of systems S overlapping [a, b)": origin IN (...) AND start < b AND end > a.
            models.Index(fields=["origin", "start"], name="timeline_origin_start_idx"),
            models.Index(fields=["origin", "end"], name="timeline_origin_end_idx"),
            # Refreshing one source's rows (a job's windows, a system's gaps).
            models.Index(fields=["source"], name="timeline_source_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(start__lt=models.F("end")), name="timeline_start_lt_end"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.source} {self.start:%Y-%m-%d %H:%M}"


class TimelineReach(models.Model):
    """Maintenance on `system` impacts `reached` (itself and its dependents, transitively).

    The closure of System.depends_on, rewritten whenever a dependency changes,
    so "what reaches grading-db" is one indexed read instead of a walk.
    """

    system = models.ForeignKey(System, on_delete=models.CASCADE, related_name="+")
    reached = models.ForeignKey(System, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["system", "reached"], name="timeline_reach_unique")
        ]

    def __str__(self) -> str:
        return f"{self.system_id} -> {self.reached_id}"

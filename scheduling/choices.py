from django.db import models


class Impact(models.TextChoices):
    EXCLUSIVE_LOCK = "exclusive_lock", "Exclusive lock"
    DOWNTIME = "downtime", "Downtime"
    DEGRADED = "degraded", "Degraded"
    NONE = "none", "None"


# Impacts that stop writes: traffic can refuse them, and two of them never share a slot.
HEAVY_IMPACTS = frozenset({Impact.EXCLUSIVE_LOCK, Impact.DOWNTIME})


class JobStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PENDING = "pending", "Pending review"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    CONFLICTED = "conflicted", "Conflicted"
    CANCELLED = "cancelled", "Cancelled"
    DONE = "done", "Done"


# Jobs that hold their slot: other bookings collide with them.
BOOKED_STATUSES = (JobStatus.PENDING, JobStatus.APPROVED)
FINISHED_STATUSES = (JobStatus.REJECTED, JobStatus.CANCELLED, JobStatus.DONE)


class Severity(models.TextChoices):
    FLAG = "flag", "Flag"
    REFUSE = "refuse", "Refuse"


class Decision(models.TextChoices):
    CLEAR = "clear", "Clear"
    FLAG = "flag", "Flag"
    REFUSE = "refuse", "Refuse"


class FindingKind(models.TextChoices):
    BLACKOUT = "blackout", "Blackout"
    DEADLINE = "deadline", "Deadline traffic"
    MAINTENANCE = "maintenance", "Overlapping maintenance"
    OUTSIDE_WINDOW = "outside_window", "Outside the allowed window"
    FREEZE = "freeze", "Change freeze"

from django.db import models


class Impact(models.TextChoices):
    EXCLUSIVE_LOCK = "exclusive_lock", "Exclusive lock"
    DOWNTIME = "downtime", "Downtime"
    DEGRADED = "degraded", "Degraded"
    NONE = "none", "None"


# Impacts that stop writes: traffic can refuse them, and two of them never share a slot.
HEAVY_IMPACTS = frozenset({Impact.EXCLUSIVE_LOCK, Impact.DOWNTIME})


class ChangeType(models.TextChoices):
    STANDARD = "standard", "Standard (pre-approved)"
    NORMAL = "normal", "Normal"
    EMERGENCY = "emergency", "Emergency"


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


class ReviewStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    SUPERSEDED = "superseded", "Superseded"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class WebhookFormat(models.TextChoices):
    """The body a team's webhook receives."""

    CLEARWAY = "clearway", "Clearway JSON"
    SLACK = "slack", "Slack"
    TEAMS = "teams", "Microsoft Teams"


class TokenScope(models.TextChoices):
    GATE_READ = "gate:read", "Read the gate, state, checks and slots"
    JOBS_WRITE = "jobs:write", "Book and submit jobs"
    JOBS_RUN = "jobs:run", "Report job runs (start, heartbeat, finish) and ask runs to stop"


class JobAction(models.TextChoices):
    """What a job's audit trail (JobEvent.action) records.

    Not set as the field's choices: the column stays free text, so no
    migration, and older rows keep whatever they say.
    """

    CREATED = "created", "Created"
    SUBMITTED = "submitted", "Submitted"
    SUBMIT_REFUSED = "submit_refused", "Submission refused"
    EMERGENCY_OVERRIDE = "emergency_override", "Emergency override"
    REVIEW_APPROVED = "review_approved", "A team approved"
    REVIEW_REJECTED = "review_rejected", "A team rejected"
    REVIEWS_ADDED = "reviews_added", "Reviews added"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    CONFLICTED = "conflicted", "Conflicted"
    CANCELLED = "cancelled", "Cancelled"
    DONE = "done", "Done"
    RESCHEDULED = "rescheduled", "Rescheduled"
    EDITED = "edited", "Title or description edited"
    RESUBMITTED = "resubmitted", "Resubmitted"
    BACK_TO_REVIEW = "back_to_review", "Back to review"
    REEVALUATED = "reevaluated", "Re-evaluated"
    # A GitHub deployment protection rule answered for the job (integrations).
    GITHUB_APPROVED = "github_approved", "GitHub deployment approved"
    GITHUB_REJECTED = "github_rejected", "GitHub deployment rejected"
    GITHUB_WAITING = "github_waiting", "GitHub deployment waiting for the window"
    CONFLICT_CLEARED = "conflict_cleared", "Conflict cleared"
    REVIEW_WITHDRAWN = "review_withdrawn", "Review withdrawn"

from scheduling.models.audit import JobEvent
from scheduling.models.calendar import CalendarChange
from scheduling.models.catalogue import AllowedWindowOccurrence, System, Team
from scheduling.models.feed_texts import FeedText
from scheduling.models.freeze import Freeze
from scheduling.models.jobs import JobOccurrence, MaintenanceJob
from scheduling.models.notifications import Delivery
from scheduling.models.reviews import ReviewRequest
from scheduling.models.standard import StandardChange
from scheduling.models.timeline import TimelineInterval, TimelineKind, TimelineReach
from scheduling.models.tokens import ApiToken, FeedToken

__all__ = [
    "AllowedWindowOccurrence",
    "ApiToken",
    "CalendarChange",
    "Delivery",
    "FeedText",
    "FeedToken",
    "Freeze",
    "JobEvent",
    "JobOccurrence",
    "MaintenanceJob",
    "ReviewRequest",
    "StandardChange",
    "System",
    "Team",
    "TimelineInterval",
    "TimelineKind",
    "TimelineReach",
]

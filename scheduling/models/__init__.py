from scheduling.models.audit import JobEvent
from scheduling.models.calendar import CalendarChange
from scheduling.models.catalogue import AllowedWindowOccurrence, System, Team
from scheduling.models.freeze import Freeze
from scheduling.models.jobs import JobOccurrence, MaintenanceJob
from scheduling.models.notifications import Delivery, DeliveryStatus
from scheduling.models.reviews import ReviewRequest, ReviewStatus
from scheduling.models.tokens import ApiToken, FeedToken, TokenScope

__all__ = [
    "AllowedWindowOccurrence",
    "ApiToken",
    "CalendarChange",
    "Delivery",
    "DeliveryStatus",
    "FeedToken",
    "Freeze",
    "JobEvent",
    "JobOccurrence",
    "MaintenanceJob",
    "ReviewRequest",
    "ReviewStatus",
    "System",
    "Team",
    "TokenScope",
]

from scheduling.models.catalogue import AllowedWindowOccurrence, System, Team
from scheduling.models.freeze import Freeze
from scheduling.models.jobs import JobOccurrence, MaintenanceJob

__all__ = [
    "AllowedWindowOccurrence",
    "Freeze",
    "JobOccurrence",
    "MaintenanceJob",
    "System",
    "Team",
]

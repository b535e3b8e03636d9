"""Reads of deadlines shared by the pages and the API."""

from django.conf import settings
from django.db.models import QuerySet

from deadlines.models import Deadline
from scheduling.models import Team


def deadlines_with_details() -> QuerySet[Deadline]:
    """Deadlines as the pages and the API show them: team, cohort, feed and systems."""
    return Deadline.objects.select_related("team", "cohort", "feed").prefetch_related("systems")


def publishing_teams(*, user) -> QuerySet[Team]:
    """The teams `user` may publish for (deadlines.services.can_publish): their own
    curriculum teams, or every team for administrators.

    The pages offer and list these teams' deadlines and feeds, and the API shows
    a feed's full URL (with the LMS's secret) only for them.
    """
    if user.is_staff:
        return Team.objects.order_by("name")
    if not user.is_authenticated:
        return Team.objects.none()
    return user.teams.filter(slug__in=settings.CLEARWAY_CURRICULUM_TEAMS).order_by("name")

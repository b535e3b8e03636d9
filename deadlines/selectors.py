"""Reads of deadlines shared by the pages and the API."""

from django.db.models import QuerySet

from deadlines.models import Deadline


def deadlines_with_details() -> QuerySet[Deadline]:
    """Deadlines as the pages and the API show them: team, cohort, feed and systems."""
    return Deadline.objects.select_related("team", "cohort", "feed").prefetch_related("systems")

"""Reads of blackouts shared by the pages and the API."""

from django.db.models import QuerySet

from blackouts.models import Blackout


def blackouts_with_systems() -> QuerySet[Blackout]:
    """Blackouts as the pages and the API show them: with their team and systems."""
    return Blackout.objects.select_related("team").prefetch_related("systems")

"""Reads of the catalogue and the jobs."""

from collections.abc import Iterable

from django.db import connection
from django.db.models import QuerySet

from scheduling import window_cache
from scheduling.models import ApiToken, CalendarChange, System


def impacted_systems(*, systems: Iterable[str]) -> frozenset[str]:
    """The given systems plus every system that depends on them, transitively."""
    found = set(systems)
    frontier = set(found)
    through = System.depends_on.through
    while frontier:
        dependents = set(
            through.objects.filter(to_system__slug__in=frontier).values_list(
                "from_system__slug", flat=True
            )
        )
        frontier = dependents - found
        found |= frontier
    return frozenset(found)


def manages_team_webhook(*, user, team) -> bool:
    """Who sees a team's webhook URL and rotates its secret: its members and administrators.

    A Slack or Teams webhook URL is itself a credential.

    Reads `team.members` through any prefetch, so a list of teams costs no query each.
    """
    if user is None or not user.is_authenticated:
        return False
    return user.is_staff or user.is_superuser or any(m.pk == user.pk for m in team.members.all())


def unknown_systems(*, systems: Iterable[str]) -> list[str]:
    wanted = set(systems)
    known = set(System.objects.filter(slug__in=wanted).values_list("slug", flat=True))
    return sorted(wanted - known)


def is_member(user, team) -> bool:
    """Whether `user` acts for `team` (superusers act for every team)."""
    if user is None or not user.is_authenticated:
        return False
    return user.is_superuser or team.members.filter(pk=user.pk).exists()


def calendar_version() -> tuple:
    """(last change, its token, number of changes): differs after any committed change.

    One indexed query: it runs on every gate and check, so the ORM is skipped.
    """
    table = connection.ops.quote_name(CalendarChange._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, token, (SELECT COUNT(*) FROM {table}) FROM {table} "  # noqa: S608
            "ORDER BY id DESC LIMIT 1"
        )
        row = cursor.fetchone()
    return tuple(row) if row else (0, "", 0)


# Stands for the version when the per-process caches are off: nothing is keyed
# by it then, so the version query (which counts every change) is skipped.
UNCACHED = ("uncached",)


def cache_version() -> tuple:
    """The calendar version for per-process cache keys, read only when the caches are on."""
    return calendar_version() if window_cache.enabled() else UNCACHED


def api_tokens_of(*, user) -> QuerySet:
    """The live API tokens a person manages: their teams', or every team's for staff."""
    tokens = ApiToken.objects.filter(revoked_at__isnull=True).select_related("team")
    tokens = tokens.order_by("team__name", "name", "pk")
    return tokens if user.is_staff else tokens.filter(team__members=user)

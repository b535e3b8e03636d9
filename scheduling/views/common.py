"""What every page needs: who the viewer is (roles), their zone, and errors on forms."""

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from scheduling.errors import DomainError
from scheduling.models import Team
from scheduling.selectors import reviews_waiting_for
from scheduling.zones import zone_names

ZONE_SESSION_KEY = "clearway_zone"


def viewer_zone_name(request: HttpRequest) -> str:
    """The zone the viewer chose (kept in the session), else the server's."""
    name = request.session.get(ZONE_SESSION_KEY) if hasattr(request, "session") else None
    return name if name in zone_names() else settings.TIME_ZONE


def viewer_zone(request: HttpRequest) -> ZoneInfo:
    return ZoneInfo(viewer_zone_name(request))


def curriculum_team_slugs() -> list[str]:
    # Teams do not carry a kind; the curriculum teams are named in settings
    # (default: the demo's "curriculum") so a new, empty team works at once.
    return list(settings.CLEARWAY_CURRICULUM_TEAMS)


@dataclass(frozen=True)
class Roles:
    """What the navigation offers; each page still checks what it allows."""

    teams: tuple[Team, ...]
    books: bool  # infra engineer: a member of a team that owns systems
    reviews: bool  # reviewer: any team can be asked to review
    curriculum: bool  # curriculum staff: publishes deadlines and feeds
    admin: bool  # administrator: is_staff

    @property
    def team_ids(self) -> set[int]:
        return {team.pk for team in self.teams}


def roles_of(user) -> Roles:
    if not user.is_authenticated:
        return Roles(teams=(), books=False, reviews=False, curriculum=False, admin=False)
    teams = tuple(user.teams.prefetch_related("systems").order_by("name"))
    return Roles(
        teams=teams,
        books=any(team.systems.all() for team in teams) or user.is_superuser,
        reviews=bool(teams),
        curriculum=any(team.slug in curriculum_team_slugs() for team in teams),
        admin=user.is_staff,
    )


def require(allowed: bool, message: str = "You cannot use this page.") -> None:
    if not allowed:
        raise PermissionDenied(message)


def bookable_teams(user) -> list[Team]:
    """Teams the viewer may book for (members only, as the service requires)."""
    if user.is_superuser:
        return list(Team.objects.order_by("name"))
    return list(user.teams.order_by("name"))


def pending_review_count(user) -> int:
    if not user.is_authenticated:
        return 0
    return reviews_waiting_for(user=user).count()


def add_domain_error(
    form: forms.Form, exc: DomainError, *, rename: dict[str, str] | None = None
) -> None:
    """Put a service's errors next to the fields they name; the rest above the form."""
    rename = rename or {}
    placed = False
    for field, messages in exc.fields.items():
        name = rename.get(field, field)
        target = name if name in form.fields else None
        for message in messages:
            form.add_error(target, message if target else f"{field}: {message}")
        placed = True
    if not placed:
        form.add_error(None, exc.message)

"""Small builders for test data, made inside each test with times relative to it.

They go through the services, so a test's data is valid the way a user's
would be.
"""

import itertools
from datetime import UTC, datetime, timedelta

from django.contrib.auth import get_user_model

from blackouts.services import blackout_create
from deadlines.services import deadline_create
from scheduling.choices import Impact, Severity
from scheduling.models import System, Team
from scheduling.services.catalogue import system_save, team_create
from scheduling.services.jobs import maintenance_job_create

_seq = itertools.count(1)


def at(day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An instant in December 2030 (UTC), far from any real clock."""
    return datetime(2030, 12, day, hour, minute, tzinfo=UTC)


def user(username: str | None = None, *, team: Team | None = None, staff: bool = False):
    username = username or f"user{next(_seq)}"
    person = get_user_model().objects.create_user(
        username=username, password="pw", email=f"{username}@example.org", is_staff=staff
    )
    if team is not None:
        team.members.add(person)
    return person


def team(slug: str | None = None, **kwargs) -> Team:
    slug = slug or f"team-{next(_seq)}"
    existing = Team.objects.filter(slug=slug).first()
    if existing:
        return existing
    kwargs.setdefault("email_addresses", [f"{slug}@example.org"])
    return team_create(slug=slug, name=kwargs.pop("name", slug.title()), **kwargs)


def system(
    slug: str | None = None, *, owner: Team | None = None, depends_on=(), **window
) -> System:
    slug = slug or f"system-{next(_seq)}"
    existing = System.objects.filter(slug=slug).first()
    if existing:
        return existing
    return system_save(
        slug=slug, name=slug.title(), team=owner or team(), depends_on=depends_on, **window
    )


def job(
    *,
    systems=("grading-db",),
    start: datetime | None = None,
    end: datetime | None = None,
    impact: str = Impact.EXCLUSIVE_LOCK,
    owner: Team | None = None,
    title: str = "Maintenance",
    **kwargs,
):
    for slug in systems:
        system(slug)
    start = start or at(10, 8)
    return maintenance_job_create(
        team=owner or team("infra"),
        title=title,
        systems=list(systems),
        start=start,
        end=end or start + timedelta(hours=4),
        impact=impact,
        **kwargs,
    )


def blackout(
    *,
    systems=(),
    start: datetime | None = None,
    end: datetime | None = None,
    severity: str = Severity.REFUSE,
    owner: Team | None = None,
    title: str = "Blackout",
    **kwargs,
):
    for slug in systems:
        system(slug)
    start = start or at(10)
    return blackout_create(
        team=owner or team("platform"),
        title=title,
        systems=list(systems),
        start=start,
        end=end or start + timedelta(days=1),
        severity=severity,
        **kwargs,
    )


def deadline(
    *,
    due: datetime | None = None,
    cohort_size: int = 2000,
    systems=("grading-api",),
    owner: Team | None = None,
    title: str = "Project 3",
    **kwargs,
):
    for slug in systems:
        system(slug)
    return deadline_create(
        team=owner or team("curriculum"),
        title=title,
        due=due or at(12, 23, 59),
        cohort_size=cohort_size,
        systems=list(systems),
        **kwargs,
    )

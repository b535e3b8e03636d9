"""Standard changes: a team's pre-approved templates, and booking a job from one.

A job booked from a template is approved at once when its decision is clear
(reviews.required_reviews asks nobody then); a flag or a refusal sends it
through the normal path. A team pre-approves work only on the systems it
owns: another team's system needs that team's review, so a template naming
one is refused, and so is booking a template whose system changed hands.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone as django_timezone

from scheduling import recurrence
from scheduling.choices import Impact
from scheduling.errors import InvalidInput, NotAllowed, NotFound
from scheduling.instants import RANGE_MESSAGE
from scheduling.models import ApiToken, MaintenanceJob, StandardChange, System, Team
from scheduling.selectors import is_member, unknown_systems
from scheduling.services.submission import maintenance_job_book
from scheduling.text import title_problem
from scheduling.vocabulary import duration_text


def _require_member(by: User | None, team: Team, verb: str) -> None:
    if by is not None and not (by.is_staff or is_member(by, team)):
        raise NotAllowed(f"Only members of {team.name} can {verb} its standard changes.")


@transaction.atomic
def standard_change_create(
    *,
    team: Team,
    title: str,
    systems: Iterable[str],
    impact: str,
    max_duration: timedelta,
    timezone: str = "UTC",
    rrule: str = "",
    description: str = "",
    by: User | None = None,
) -> StandardChange:
    """Define a standard change for `team` (its members or administrators)."""
    _require_member(by, team, "define")
    systems = sorted(set(systems))
    errors: dict[str, list[str]] = {}
    if problem := title_problem(title, noun="standard change"):
        errors["title"] = [problem]
    if not systems:
        errors["systems"] = ["Name the systems it touches."]
    elif missing := unknown_systems(systems=systems):
        errors["systems"] = [f"Unknown system(s): {', '.join(missing)}."]
    elif foreign := _owned_by_others(team=team, systems=systems):
        errors["systems"] = [_not_own(team, foreign)]
    if impact not in Impact.values:
        errors["impact"] = [f"Impact must be one of {', '.join(Impact.values)}."]
    if max_duration is None or max_duration <= timedelta(0):
        errors["max_duration"] = ["The maximum duration must be positive, e.g. PT2H."]
    elif max_duration > recurrence.MAX_JOB_SPAN:
        # A template past what a job may span pre-approves nothing bookable, and
        # 999999999 days overflowed the database's interval into a 500.
        longest = duration_text(recurrence.MAX_JOB_SPAN)
        errors["max_duration"] = [f"A job lasts at most {longest}."]
    try:
        recurrence.zone(timezone)
    except InvalidInput as exc:
        errors.update(exc.fields)
    if errors:
        raise InvalidInput("The standard change is not valid.", fields=errors)
    template = StandardChange.objects.create(
        team=team,
        title=title.strip(),
        description=description,
        impact=impact,
        max_duration=max_duration,
        timezone=timezone,
        rrule=recurrence.normalise_rrule(rrule) if rrule else "",
        created_by=by,
    )
    template.systems.set(System.objects.filter(slug__in=systems))
    return template


def _owned_by_others(*, team: Team, systems: Iterable[str]) -> list[str]:
    """The systems, among `systems`, that another team owns: "slug (team name)"."""
    others = System.objects.filter(slug__in=list(systems)).exclude(team=team)
    return [f"{slug} ({name})" for slug, name in others.values_list("slug", "team__name")]


def _not_own(team: Team, foreign: list[str]) -> str:
    return (
        f"A standard change is pre-approved by {team.name} alone, so it names only "
        f"{team.name}'s systems; {', '.join(sorted(foreign))} belong to other teams: "
        "book a normal job there, which they review."
    )


def maintenance_job_book_standard(
    *,
    template_id: int,
    start: datetime,
    end: datetime | None = None,
    by: User | None,
    now: datetime | None = None,
    token: ApiToken | None = None,
) -> MaintenanceJob:
    """Book and submit a job from a standard change: approved at once when clear.

    It runs for the template's maximum duration unless `end` is earlier.
    `token`: the team token `by` booked through, if any.
    """
    now = now or django_timezone.now()
    template = (
        StandardChange.objects.select_related("team").filter(pk=template_id, active=True).first()
    )
    if template is None:
        raise NotFound(f"There is no standard change #{template_id}.")
    _require_member(by, template.team, "book")
    named = list(template.systems.values_list("slug", flat=True))
    if foreign := _owned_by_others(team=template.team, systems=named):
        raise NotAllowed(_not_own(template.team, foreign))
    if start.tzinfo is None or (end is not None and end.tzinfo is None):
        raise InvalidInput.for_field("start", "Times need a UTC offset or a time zone.")
    try:
        end = end or start + template.max_duration
    except OverflowError:
        # A template saved before max_duration was bounded can end past year 9999.
        raise InvalidInput.for_field("end", RANGE_MESSAGE) from None
    if end - start > template.max_duration:
        raise InvalidInput.for_field(
            "end",
            f"'{template.title}' lasts at most {template.max_duration}; "
            "book a normal job for longer work.",
        )
    return maintenance_job_book(
        team=template.team,
        title=template.title,
        description=template.description,
        systems=named,
        start=start,
        end=end,
        impact=template.impact,
        timezone=template.timezone,
        rrule=template.rrule,
        template=template,
        submit=True,
        by=by,
        now=now,
        token=token,
    )

"""Writes to deadlines. Each change re-evaluates the jobs under its traffic window."""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F
from django.utils import timezone as django_timezone

from deadlines.choices import DeadlineSource
from deadlines.limits import COHORT_SIZE_RULE, is_cohort_size
from deadlines.models import Cohort, Deadline, DeadlineFeed
from scheduling.calendar_feeds.stored import feed_texts_store
from scheduling.choices import FindingKind
from scheduling.db import retry_on_conflict
from scheduling.errors import Conflict, InvalidInput, NotAllowed
from scheduling.instants import instant_errors
from scheduling.models import System, Team
from scheduling.selectors import is_member, unknown_systems
from scheduling.services.calendar import calendar_changed
from scheduling.services.calendar_batch import calendar_batch
from scheduling.text import MESSAGE as ONE_LINE
from scheduling.text import is_one_line, title_problem


def traffic_window(due: datetime) -> tuple[datetime, datetime]:
    return due - settings.CLEARWAY_TRAFFIC_LEAD, due + settings.CLEARWAY_TRAFFIC_TAIL


def check_deadline(
    *,
    title: str,
    cohort_size: int | None,
    due: datetime,
    systems: Iterable[str],
    course: str = "",
    cohort_name: str = "",
    known: frozenset[str] | None = None,
) -> None:
    """Raise InvalidInput naming each bad field; `known`: existing slugs read once per batch."""
    errors: dict[str, list[str]] = {}
    if problem := title_problem(title, noun="deadline"):
        errors["title"] = [problem]
    # Both are in every finding's message (pages, emails, webhooks), as the title is.
    for field, text in (("course", course), ("cohort", cohort_name)):
        if not is_one_line(text):
            errors[field] = [ONE_LINE]
    if not is_cohort_size(cohort_size):
        errors["cohort_size"] = [COHORT_SIZE_RULE]
    errors.update(instant_errors({"due": due}))
    systems = list(systems)
    if not systems:
        errors["systems"] = ["Name the systems the deadline hits."]
    elif missing := unknown_systems(systems=systems, known=known):
        errors["systems"] = [f"Unknown system(s): {', '.join(missing)}."]
    if errors:
        raise InvalidInput("The deadline is not valid.", fields=errors)


def announce(deadline: Deadline, *, systems: Iterable[str], verb: str, extra_due=None) -> None:
    dues = [deadline.due] + ([extra_due] if extra_due else [])
    windows = [traffic_window(due) for due in dues]
    calendar_changed(
        start=min(w[0] for w in windows),
        end=max(w[1] for w in windows),
        systems=list(systems),
        reason=f"deadline '{deadline.title}' ({deadline.cohort_size:,} students) {verb}",
        kinds=(FindingKind.DEADLINE,),
    )


def can_publish(*, by: User | None, team: Team) -> bool:
    """The one publishing rule: administrators for any team, curriculum staff for their own.

    A deadline's flag asks its team to review the jobs it touches, so being
    in some team is not enough: the team must be a curriculum team
    (settings.CLEARWAY_CURRICULUM_TEAMS). The API, the pages, uploads and
    feeds all ask this.
    """
    if by is None or not by.is_authenticated:
        return False
    if by.is_staff:
        return True
    return team.slug in settings.CLEARWAY_CURRICULUM_TEAMS and is_member(by, team)


def check_can_publish(*, by: User | None, team: Team) -> None:
    """Raise unless `by` may publish for `team`; `by=None` is Clearway itself (a feed sync)."""
    if by is not None and not can_publish(by=by, team=team):
        raise NotAllowed(
            "Deadlines are published by curriculum staff (for their own team) and administrators."
        )


def check_not_from_feed(*, deadline: Deadline) -> None:
    """A feed's deadlines change in the LMS: the next sync would undo an edit here."""
    if deadline.feed_id is not None:
        raise Conflict(
            "This deadline comes from a deadline feed; change it in the LMS "
            f"(or disable feed {deadline.feed_id}).",
            code="from_feed",
        )


@retry_on_conflict
@transaction.atomic
def deadline_create(
    *,
    team: Team,
    title: str,
    due: datetime,
    cohort_size: int | None = None,
    cohort: Cohort | None = None,
    new_cohort_name: str = "",
    systems: Iterable[str] | None = None,
    course: str = "",
    source: str = DeadlineSource.MANUAL,
    external_uid: str = "",
    feed: DeadlineFeed | None = None,
    upload_source: str = "",
    by: User | None = None,
) -> Deadline:
    check_can_publish(by=by, team=team)
    # None: the default systems; an empty list names none, which check_deadline refuses.
    systems = list(settings.CLEARWAY_DEFAULT_DEADLINE_SYSTEMS if systems is None else systems)
    if cohort is not None and cohort_size is None:
        cohort_size = cohort.size
    check_deadline(
        title=title,
        cohort_size=cohort_size,
        due=due,
        systems=systems,
        course=course,
        cohort_name=new_cohort_name,
    )
    if new_cohort_name:
        # Made here, once the deadline is known to be valid and in its transaction:
        # a refused deadline left its new cohort behind, and a retry took its size.
        cohort = cohort_save(name=new_cohort_name, size=cohort_size, team=team)
    deadline = Deadline.objects.create(
        team=team,
        title=title.strip(),
        course=course,
        cohort=cohort,
        cohort_size=cohort_size,
        due=due,
        source=source,
        external_uid=external_uid,
        feed=feed,
        upload_source=upload_source,
        created_by=by,
    )
    deadline.systems.set(System.objects.filter(slug__in=systems))
    announce(deadline, systems=systems, verb="published")
    feed_texts_store(kind="deadline", ids=[deadline.pk])
    return deadline


@retry_on_conflict
@transaction.atomic
def deadline_update(*, deadline: Deadline, by: User | None = None, **changes: Any) -> Deadline:
    """Change a deadline. `by` is the person asking (None for a feed sync)."""
    allowed = {"title", "course", "cohort", "cohort_size", "due", "systems", "team"}
    unknown = set(changes) - allowed
    if unknown:
        raise InvalidInput(f"Cannot change {', '.join(sorted(unknown))} on a deadline.")
    if by is not None:
        check_can_publish(by=by, team=deadline.team)
        if changes.get("team") is not None:
            check_can_publish(by=by, team=changes["team"])
        check_not_from_feed(deadline=deadline)
    old_due = deadline.due
    old_systems = list(deadline.systems.values_list("slug", flat=True))
    systems = changes.pop("systems", None)
    if systems is None:
        # None keeps the systems; [] is a request to hit none, which check_deadline refuses.
        systems = old_systems
    for key, value in changes.items():
        if value is not None:
            setattr(deadline, key, value)
    if "cohort" in changes and changes["cohort"] is None:
        # An explicit None unlinks the cohort (a feed event that no longer names one).
        deadline.cohort = None
    if "cohort" in changes and changes["cohort"] is not None and "cohort_size" not in changes:
        deadline.cohort_size = changes["cohort"].size
    check_deadline(
        title=deadline.title,
        cohort_size=deadline.cohort_size,
        due=deadline.due,
        systems=systems,
        course=deadline.course,
    )
    deadline.version = F("version") + 1
    deadline.save()
    deadline.refresh_from_db(fields=["version"])
    deadline.systems.set(System.objects.filter(slug__in=systems))
    announce(deadline, systems=set(systems) | set(old_systems), verb="changed", extra_due=old_due)
    feed_texts_store(kind="deadline", ids=[deadline.pk])
    return deadline


@retry_on_conflict
@transaction.atomic
def deadline_withdraw(
    *, deadline: Deadline, by: User | None = None, now: datetime | None = None
) -> Deadline:
    """Withdraw a deadline. `by` is the person asking (None for a feed sync)."""
    if by is not None:
        check_can_publish(by=by, team=deadline.team)
        check_not_from_feed(deadline=deadline)
    if deadline.withdrawn_at is not None:
        return deadline
    deadline.withdrawn_at = now or django_timezone.now()
    deadline.version = F("version") + 1
    deadline.save(update_fields=["withdrawn_at", "version", "updated_at"])
    deadline.refresh_from_db(fields=["version"])
    announce(deadline, systems=deadline.systems.values_list("slug", flat=True), verb="withdrawn")
    feed_texts_store(kind="deadline", ids=[deadline.pk], now=deadline.withdrawn_at)
    return deadline


@retry_on_conflict
@transaction.atomic
def deadline_restore(*, deadline: Deadline) -> Deadline:
    """Bring a withdrawn deadline back (its feed event reappeared)."""
    if deadline.withdrawn_at is None:
        return deadline
    deadline.withdrawn_at = None
    deadline.version = F("version") + 1
    deadline.save(update_fields=["withdrawn_at", "version", "updated_at"])
    deadline.refresh_from_db(fields=["version"])
    announce(deadline, systems=deadline.systems.values_list("slug", flat=True), verb="restored")
    return deadline


def deadlines_of_team_renamed(*, team: Team) -> None:
    """A team's new slug or name reaches its live deadlines' traffic (inside the rename)."""
    _announce_all(team.deadlines.filter(withdrawn_at__isnull=True), verb="renamed")


def _announce_all(deadlines, *, verb: str) -> None:
    with calendar_batch(reason=f"deadlines {verb}"):
        for deadline in deadlines.prefetch_related("systems"):
            announce(deadline, systems=[s.slug for s in deadline.systems.all()], verb=verb)


@retry_on_conflict
@transaction.atomic
def cohort_save(*, name: str, size: int, team: Team, cohort: Cohort | None = None) -> Cohort:
    """Create or resize a cohort; its live deadlines follow the new size."""
    if not is_cohort_size(size):
        raise InvalidInput.for_field("size", COHORT_SIZE_RULE)
    cohort = cohort or Cohort(name=name, team=team)
    resized = cohort.pk is not None and cohort.size != size
    renamed = cohort.pk is not None and cohort.name != name
    cohort.name, cohort.size, cohort.team = name, size, team
    cohort.save()
    live = cohort.deadlines.filter(withdrawn_at__isnull=True)
    if resized:
        for deadline in live:
            deadline_update(deadline=deadline, cohort_size=size)
    elif renamed:
        # Their traffic's messages name the cohort.
        _announce_all(live, verb="renamed with their cohort")
    return cohort

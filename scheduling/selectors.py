"""Reads of the catalogue and the jobs."""

from collections.abc import Iterable
from datetime import datetime

from django.db import connection
from django.db.models import Prefetch, QuerySet

from scheduling import db, window_cache
from scheduling.choices import JobStatus, ReviewStatus
from scheduling.errors import InvalidInput
from scheduling.models import (
    ApiToken,
    CalendarChange,
    JobEvent,
    JobOccurrence,
    MaintenanceJob,
    ReviewRequest,
    System,
)

# How many systems one question (a CI call, a feed filter) may name.
MAX_SYSTEMS = 100


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


def team_systems(*, team: str) -> frozenset[str]:
    """The slugs of the systems `team` owns (none for an unknown team)."""
    return frozenset(System.objects.filter(team__slug=team).values_list("slug", flat=True))


def manages_team_webhook(*, user, team) -> bool:
    """Who sees a team's webhook URL and rotates its secret: its members and administrators.

    A Slack or Teams webhook URL is itself a credential.

    Reads `team.members` through any prefetch, so a list of teams costs no query each.
    """
    if user is None or not user.is_authenticated:
        return False
    return user.is_staff or user.is_superuser or any(m.pk == user.pk for m in team.members.all())


def unknown_systems(*, systems: Iterable[str], known: frozenset[str] | None = None) -> list[str]:
    """The slugs among `systems` no system has; `known` (from `existing_systems`) saves the read."""
    wanted = set(systems)
    if known is None:
        known = existing_systems(systems=wanted)
    return sorted(wanted - known)


def existing_systems(*, systems: Iterable[str]) -> frozenset[str]:
    """The slugs among `systems` that name a system: one read for a whole batch."""
    # No slug holds a NUL, and PostgreSQL refuses to compare a text that does.
    possible = {slug for slug in systems if "\x00" not in slug}
    return frozenset(System.objects.filter(slug__in=possible).values_list("slug", flat=True))


def known_systems(*, version: tuple | None = None) -> frozenset[str]:
    """Every system's slug; systems change only with a calendar change, so cached per version."""
    return window_cache.answers.get_or_compute(
        ("systems", version or calendar_version()),
        lambda: frozenset(System.objects.values_list("slug", flat=True)),
    )


def system_list(
    *,
    raw: str | list | None,
    field: str = "systems",
    required: bool = True,
    version: tuple | None = None,
) -> list[str]:
    """The known systems named in `a,b` (a query parameter) or a list: trimmed,
    each once, in the order given. The one parser for the CI API and the feeds.

    With a calendar `version` the known slugs come from the per-version cache;
    without one, only the named slugs are looked up.
    """
    systems = system_names(raw=raw, field=field, required=required)
    missing = (
        sorted(set(systems) - known_systems(version=version))
        if version is not None and window_cache.enabled()
        # Without the caches only the named slugs are read: reading every slug
        # would cost what the catalogue holds on each question.
        else unknown_systems(systems=systems)
    )
    refuse_unknown(missing, field=field)
    return systems


def system_names(
    *, raw: str | list | None, field: str = "systems", required: bool = True
) -> list[str]:
    """The names in `raw` as system_list reads them, checked for form only (no query)."""
    values = raw if isinstance(raw, list) else (raw or "").split(",")
    systems = list(dict.fromkeys(v.strip() for v in values if v and v.strip()))
    if required and not systems:
        raise InvalidInput.for_field(field, "Name at least one system, e.g. systems=grading-db.")
    if len(systems) > MAX_SYSTEMS:
        raise InvalidInput.for_field(field, f"Name at most {MAX_SYSTEMS} systems at once.")
    return systems


def refuse_unknown(missing: list[str], *, field: str = "systems") -> None:
    """The one error for names of systems that do not exist (sorted)."""
    if missing:
        raise InvalidInput.for_field(field, f"Unknown system(s): {', '.join(missing)}.")


def job_detail_relations() -> list:
    """What a job's page and its API answer show besides the row: one query each."""
    return [
        "systems",
        "impacted_systems",
        Prefetch("reviews", queryset=ReviewRequest.objects.select_related("team", "decided_by")),
        Prefetch("history", queryset=JobEvent.objects.select_related("actor")),
    ]


def jobs_with_details() -> QuerySet[MaintenanceJob]:
    """Jobs as the job page and the jobs API read them (one home for both)."""
    return MaintenanceJob.objects.select_related("team", "created_by").prefetch_related(
        *job_detail_relations()
    )


def reviews_waiting_for(*, user) -> QuerySet[ReviewRequest]:
    """Pending requests of `user`'s teams on jobs still in review, in the order
    they came, for the inbox and the count in the navigation alike. Members of
    the requesting team never review it (the service refuses), so those are left out."""
    return (
        ReviewRequest.objects.filter(
            team__members=user, status=ReviewStatus.PENDING, job__status=JobStatus.PENDING
        )
        .exclude(job__team__members=user)
        .order_by("created_at")
    )


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
    sql = f"SELECT id, token, (SELECT COUNT(*) FROM {table}) FROM {table} ORDER BY id DESC LIMIT 1"  # noqa: S608
    if connection.vendor == "postgresql":
        # Prepared once per connection, and under the gate's lock bound it
        # carries the bound itself: no setting it and putting it back around it.
        row = db.read_prepared(sql, [])
    else:
        with connection.cursor() as cursor:
            cursor.execute(sql)
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


def jobs_held_by_passed_occurrences(*, now: datetime) -> list[int]:
    """Conflicted or pending jobs with a window left, one of whose stored findings
    belongs to a window that has ended.

    A recurring job is evaluated on its windows that have not ended; what held
    one of them (a blackout that day) holds the job until it is evaluated again.
    """
    candidates = (
        MaintenanceJob.objects.filter(
            status__in=(JobStatus.CONFLICTED, JobStatus.PENDING),
            occurrences__end__gt=now,
        )
        .filter(pk__in=JobOccurrence.objects.filter(end__lte=now).values("job_id"))
        .exclude(findings=[])
        .distinct()
    )
    findings_of = dict(candidates.values_list("pk", "findings"))
    ended: dict[int, set[str]] = {}
    for job_id, start in JobOccurrence.objects.filter(
        job_id__in=list(findings_of), end__lte=now
    ).values_list("job_id", "start"):
        ended.setdefault(job_id, set()).add(start.isoformat())
    return sorted(
        pk
        for pk, findings in findings_of.items()
        if any(finding.get("occurrence") in ended.get(pk, ()) for finding in findings)
    )

"""Writes to the catalogue: teams and systems."""

from collections.abc import Iterable
from datetime import time, timedelta

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone as django_timezone

from scheduling import recurrence
from scheduling.addresses import AddressRefused, check_literal_host
from scheduling.choices import WebhookFormat
from scheduling.db import retry_on_conflict
from scheduling.engine import FAR_FUTURE
from scheduling.errors import Conflict, InvalidInput
from scheduling.models import ApiToken, MaintenanceJob, System, Team
from scheduling.queue import enqueue
from scheduling.sealing import seal
from scheduling.selectors import impacted_systems, unknown_systems
from scheduling.services.calendar import calendar_change_record
from scheduling.services.occurrences import (
    allowed_window_occurrences,
    allowed_windows_materialise,
)
from scheduling.services.tokens import api_tokens_revoke_of_leavers
from scheduling.services.webhooks import new_webhook_secret
from scheduling.signals import team_renamed
from scheduling.text import check_one_line
from scheduling.timeline.services import (
    timeline_refresh_job,
    timeline_refresh_jobs_of_team,
    timeline_refresh_reach,
    timeline_refresh_system,
)


@transaction.atomic
def team_create(
    *,
    slug: str,
    name: str,
    members: Iterable[User] = (),
    email_addresses: Iterable[str] = (),
    webhook_url: str = "",
    webhook_format: str = WebhookFormat.CLEARWAY,
) -> Team:
    """Create a team with its own webhook signing secret.

    The secret is on the returned object as `new_webhook_secret` and nowhere
    else in clear: the API shows it once, in the answer that creates the team.
    """
    check_webhook_url(url=webhook_url)
    check_one_line("The team is not valid.", name=name)
    addresses = check_email_addresses(
        addresses=email_addresses if isinstance(email_addresses, str) else list(email_addresses)
    )
    secret = new_webhook_secret()
    team = Team.objects.create(
        slug=slug,
        name=name,
        email_addresses=addresses,
        webhook_url=webhook_url,
        webhook_format=webhook_format,
        webhook_secret_sealed=seal(secret),
        webhook_secret_created=django_timezone.now(),
    )
    team.members.set(list(members))
    # Not a column: the API shows it once, in the answer that creates the team.
    team.new_webhook_secret = secret  # type: ignore[attr-defined]
    return team


@transaction.atomic
def team_update(*, team: Team, **changes) -> Team:
    members = changes.pop("members", None)
    check_one_line("The team is not valid.", name=changes.get("name"))
    for key, value in changes.items():
        if key not in {"slug", "name", "email_addresses", "webhook_url", "webhook_format"}:
            raise InvalidInput(f"Cannot change {key} on a team.")
        setattr(team, key, value)
    check_webhook_url(url=team.webhook_url)
    if "email_addresses" in changes:
        team.email_addresses = check_email_addresses(addresses=team.email_addresses)
    renamed = Team.objects.filter(pk=team.pk).exclude(slug=team.slug, name=team.name).exists()
    team.save()
    if members is not None:
        # The accounts the team's tokens act as are members too, though no
        # one lists them: keep them, or every token of the team stops working.
        acting = ApiToken.objects.filter(team=team, user__isnull=False).values("user_id")
        team.members.set([*members, *team.members.filter(pk__in=acting)])
        # Someone who left the team no longer books for it with a token they made.
        api_tokens_revoke_of_leavers(team=team)
    if renamed:
        # Stored rows name the team: its jobs' rows give it a say by slug, and
        # blackout and deadline messages show its name.
        calendar_change_record(reason=f"team {team.slug} renamed")
        timeline_refresh_jobs_of_team(team_id=team.pk)
        team_renamed.send(sender=Team, team=team)
    return team


def check_email_addresses(*, addresses: object) -> list[str]:
    """The team's addresses as a list, or an error on email_addresses.

    The admin takes them as JSON: a single string was stored as one
    "address" per character, and numbers or other words went to the mailer.
    """
    if not isinstance(addresses, list | tuple):
        raise InvalidInput.for_field(
            "email_addresses", 'Give a list of email addresses, e.g. ["ops@example.org"].'
        )
    for address in addresses:
        try:
            if not isinstance(address, str):
                raise ValidationError("not text")
            validate_email(address)
        except ValidationError:
            raise InvalidInput.for_field(
                "email_addresses", f"{repr(address)[:100]} is not an email address."
            ) from None
    return list(addresses)


def check_webhook_url(*, url: str) -> None:
    """Refuse a webhook URL naming a private address (host names are checked when sending)."""
    try:
        check_literal_host(url)
    except AddressRefused as exc:
        raise InvalidInput.for_field("webhook_url", str(exc)) from None


def _systems_by_slug(slugs: Iterable[str], *, field: str) -> list[System]:
    slugs = list(dict.fromkeys(slugs))
    missing = unknown_systems(systems=slugs)
    if missing:
        raise InvalidInput.for_field(field, f"Unknown system(s): {', '.join(missing)}.")
    return list(System.objects.filter(slug__in=slugs))


def check_maintenance_window(
    *, rrule: str, start_time: time | None, duration: timedelta | None, timezone: str
) -> str:
    """Validate an allowed window by expanding it; return the normalised rule."""
    if not rrule:
        return ""
    if start_time is None or duration is None or not timezone:
        raise InvalidInput.for_field(
            "maintenance_window", "A maintenance window needs rrule, start_time, duration and zone."
        )
    recurrence.zone(timezone, field="maintenance_window")
    recurrence.check_rule_text(rrule, field="maintenance_window")
    if recurrence.normalise_rrule(rrule).split("FREQ=")[-1].split(";")[0] in {
        "SECONDLY",
        "MINUTELY",
        "HOURLY",
    }:
        raise InvalidInput.for_field(
            "maintenance_window", "An allowed window repeats at most daily (FREQ=DAILY or coarser)."
        )
    if not timedelta(0) < duration <= timedelta(days=7):
        raise InvalidInput.for_field(
            "maintenance_window", "The window's duration must be between 1 minute and 7 days."
        )
    probe = System(
        window_rrule=rrule,
        window_start_time=start_time,
        window_duration=duration,
        window_timezone=timezone,
    )
    now = django_timezone.now()
    if not allowed_window_occurrences(system=probe, after=now, before=now + timedelta(days=400)):
        raise InvalidInput.for_field(
            "maintenance_window", "The window rule has no occurrence in the next 400 days."
        )
    return recurrence.normalise_rrule(rrule)


def check_system(
    *,
    slug: str,
    depends_on: Iterable[str],
    window_rrule: str,
    window_start_time: time | None,
    window_duration: timedelta | None,
    window_timezone: str,
    system: System | None = None,
) -> tuple[str, list[System]]:
    """Validate a system before it is saved; return its normalised window rule and
    its dependencies. The admin form asks it too, so errors show beside fields."""
    rule = check_maintenance_window(
        rrule=window_rrule,
        start_time=window_start_time,
        duration=window_duration,
        timezone=window_timezone,
    )
    dependencies = _systems_by_slug(depends_on, field="depends_on")
    stored = system.pk if system is not None else None
    if any(dep.slug == slug or (stored and dep.pk == stored) for dep in dependencies):
        raise InvalidInput.for_field("depends_on", "A system cannot depend on itself.")
    # A cycle: the new dependency already depends (transitively) on this system,
    # known to the graph by its stored slug even while it is being renamed.
    dependents = impacted_systems(systems=[system.slug]) if system and system.pk else set()
    if any(dep.slug in dependents for dep in dependencies):
        raise InvalidInput.for_field("depends_on", "Those dependencies make a cycle.")
    return rule, dependencies


@retry_on_conflict
@transaction.atomic
def system_save(
    *,
    slug: str,
    name: str,
    team: Team,
    depends_on: Iterable[str] = (),
    window_rrule: str = "",
    window_start_time: time | None = None,
    window_duration: timedelta | None = None,
    window_timezone: str = "",
    system: System | None = None,
) -> System:
    """Create or update a system; dependencies change which jobs it impacts."""
    depends_on = list(depends_on)
    rule, dependencies = check_system(
        slug=slug,
        depends_on=depends_on,
        window_rrule=window_rrule,
        window_start_time=window_start_time,
        window_duration=window_duration,
        window_timezone=window_timezone,
        system=system,
    )
    system = system or System()
    renamed = system.pk is not None and system.slug != slug
    window_before = _window_of(system)
    system.slug, system.name, system.team = slug, name, team
    system.window_rrule = rule
    system.window_start_time = window_start_time if rule else None
    system.window_duration = window_duration if rule else None
    system.window_timezone = window_timezone if rule else ""
    system.save()
    before = list(system.depends_on.values_list("slug", flat=True))
    system.depends_on.set(dependencies)
    calendar_change_record(reason=f"system {system.slug} saved")
    timeline_refresh_reach()
    if renamed:
        # Stored traffic steps are named after their system.
        timeline_refresh_system(slug=system.slug)
    allowed_windows_materialise(system=system)
    # Jobs on a dependency that was dropped stop impacting this system too.
    touched = [system.slug, *depends_on, *before]
    jobs_refresh_impacted(systems=touched)
    if sorted(before) == sorted(d.slug for d in dependencies) and (
        _window_of(system) == window_before
    ):
        return system
    # What reaches a booked job, or when its systems allow work, changed: its
    # decision is taken again, as after a blackout or deadline.
    now = django_timezone.now()
    enqueue(
        "scheduling.tasks.reevaluate_jobs",
        start=now.isoformat(),
        end=FAR_FUTURE.isoformat(),
        systems=sorted(set(touched)),
        reason=f"system {system.slug} saved",
    )
    return system


def _window_of(system: System) -> tuple:
    return (
        system.window_rrule,
        system.window_start_time,
        system.window_duration,
        system.window_timezone,
    )


def jobs_refresh_impacted(*, systems: Iterable[str]) -> None:
    """Recompute the impacted systems of jobs booked on what changed."""
    affected = impacted_systems(systems=systems)
    for job in MaintenanceJob.objects.filter(systems__slug__in=affected).distinct():
        job_set_impacted(job=job)


def job_set_impacted(*, job: MaintenanceJob) -> frozenset[str]:
    booked = list(job.systems.values_list("slug", flat=True))
    impacted = impacted_systems(systems=booked)
    job.impacted_systems.set(System.objects.filter(slug__in=impacted))
    timeline_refresh_job(job_id=job.pk)
    return impacted


@retry_on_conflict
@transaction.atomic
def system_delete(*, system: System) -> None:
    """Remove a system nothing names: no job, blackout, deadline, feed, freeze, standard
    change, mapping or dependent system (Conflict `in_use` otherwise)."""
    if uses := system_uses(system=system):
        raise Conflict(
            f"{system.slug} is still named by {', '.join(uses)}: remove it from them "
            "first, or rename the system instead.",
            code="in_use",
        )
    slug = system.slug
    # Jobs on what it depends on impacted it: their rows name it, and its own
    # allowed window may have refused them.
    impacting = list(system.impacting_jobs.values_list("pk", flat=True))
    upstream = sorted(system.depends_on.values_list("slug", flat=True))
    system.delete()
    calendar_change_record(reason=f"system {slug} removed")
    timeline_refresh_reach()
    for job_id in impacting:
        timeline_refresh_job(job_id=job_id)
    if impacting:
        now = django_timezone.now()
        enqueue(
            "scheduling.tasks.reevaluate_jobs",
            start=now.isoformat(),
            end=FAR_FUTURE.isoformat(),
            systems=upstream,
            reason=f"system {slug} removed",
        )


# Named through many-to-many links, which the database would silently drop
# with the system: a blackout left with no systems means every system. Jobs
# impacted only through a dependency are not named; their reach is derived.
_DERIVED_LINKS = {"impacting_jobs"}


def system_uses(*, system: System) -> list[str]:
    """What still names `system`, as "2 jobs", found from System's own relations so
    that scheduling needs no import of the apps built on it."""
    found = []
    for relation in System._meta.related_objects:
        name = relation.get_accessor_name()
        if not relation.many_to_many or name is None or name in _DERIVED_LINKS:
            continue
        count = getattr(system, name).count()
        if count:
            label = relation.related_model._meta
            noun = label.verbose_name if count == 1 else label.verbose_name_plural
            what = "systems depending on it" if name == "dependents" else noun
            found.append(f"{count} {what}")
    return found

"""Change freezes: the manual switch ("a freeze starting now") and scheduled freezes.

A freeze is a gate condition. It changes no job's status, so nothing here
re-evaluates jobs: the gate, /state and /slots read the freezes at call time
(scheduling.freezes), and a change only makes cached windows stale.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q
from django.utils import timezone as django_timezone

from scheduling import recurrence
from scheduling.db import retry_on_conflict
from scheduling.errors import Conflict, InvalidInput, NotAllowed, NotFound
from scheduling.freezes import manual_freeze
from scheduling.instants import instant_errors
from scheduling.models import Freeze, System
from scheduling.selectors import unknown_systems
from scheduling.services.calendar import calendar_change_record
from scheduling.timeline.services import timeline_refresh_freeze


@dataclass(frozen=True)
class FreezeSwitch:
    """What GET /api/v1/freeze answers: is the manual, organisation-wide freeze on."""

    active: bool
    reason: str
    since: datetime | None
    by: str | None


def freeze_get(*, now: datetime | None = None) -> FreezeSwitch:
    now = now or django_timezone.now()
    current = manual_freeze(at=now)
    if current is None:
        return FreezeSwitch(active=False, reason="", since=None, by=None)
    by = current.created_by.get_username() if current.created_by else None
    return FreezeSwitch(active=True, reason=current.reason, since=current.start, by=by)


# The reason is quoted in every gate answer, refusal and calendar entry.
REASON_MAX_LENGTH = 500


def _check_reason_length(reason: str) -> None:
    if len(reason) > REASON_MAX_LENGTH:
        raise InvalidInput.for_field(
            "reason", f"Keep the reason to {REASON_MAX_LENGTH} characters; link to the details."
        )


def _require_admin(by: User | None) -> None:
    if by is not None and not by.is_staff:
        raise NotAllowed("Only administrators can freeze change.")


@retry_on_conflict
@transaction.atomic
def freeze_set(
    *, active: bool, reason: str = "", by: User | None, now: datetime | None = None
) -> FreezeSwitch:
    """The manual switch: on starts an open-ended freeze on every system now; off lifts it."""
    _require_admin(by)
    if active:
        _check_reason_length(reason)
    now = now or django_timezone.now()
    current = manual_freeze(at=now)
    if current is not None:
        current = Freeze.objects.select_for_update().get(pk=current.pk)
    if active and current is None:
        Freeze.objects.create(reason=reason, start=now, created_by=by, created_at=now)
        calendar_change_record(reason="change freeze switched on")
        timeline_refresh_freeze()
    elif active and current is not None and current.reason != reason:
        # Findings quote the reason: cached answers must not keep the old one.
        current.reason, current.reason_edited_at = reason, now
        current.save(update_fields=["reason", "reason_edited_at"])
        calendar_change_record(reason="change freeze reason edited")
        timeline_refresh_freeze()
    elif not active and current is not None and current.start >= now:
        # Switched off at the instant it was switched on: it never froze anything.
        current.cancelled_at, current.cancelled_by = now, by
        current.save(update_fields=["cancelled_at", "cancelled_by"])
        calendar_change_record(reason="change freeze switched off")
        timeline_refresh_freeze()
    elif not active and current is not None:
        current.end, current.lifted_at, current.lifted_by = now, now, by
        current.save(update_fields=["end", "lifted_at", "lifted_by"])
        calendar_change_record(reason="change freeze switched off")
        timeline_refresh_freeze()
    return freeze_get(now=now)


def _check_schedule(
    *,
    reason: str,
    start: datetime,
    end: datetime | None,
    timezone: str,
    rrule: str,
    systems: list[str],
    now: datetime,
) -> str:
    """Validate a scheduled freeze; return its normalised rule."""
    errors: dict[str, list[str]] = {}
    if not reason.strip():
        errors["reason"] = ["Say why change is frozen: teams read it in every refusal."]
    elif len(reason.strip()) > REASON_MAX_LENGTH:
        errors["reason"] = [f"Keep the reason to {REASON_MAX_LENGTH} characters."]
    if missing := unknown_systems(systems=systems):
        errors["systems"] = [f"Unknown system(s): {', '.join(missing)}."]
    if times := instant_errors({"start": start, "end": end}):
        # Naive, outside 1970-2999 or skipped by the clocks: the words every form uses.
        errors.update(times)
    elif end is not None and start.astimezone(UTC) >= end.astimezone(UTC):
        # One shared tzinfo compares wall times; a repeated hour needs the instants.
        errors["end"] = ["The end must be after the start."]
    elif end is not None and end <= now:
        errors["end"] = ["This freeze would be over already."]
    if rrule and end is None:
        errors["end"] = ["A recurring freeze needs an end for its first occurrence."]
    try:
        recurrence.zone(timezone)
    except InvalidInput as exc:
        errors.update(exc.fields)
    if errors:
        raise InvalidInput("The freeze is not valid.", fields=errors)
    if not rrule:
        return ""
    assert end is not None, "a recurring freeze without an end was refused above"
    return recurrence.validate_rule(
        rrule_text=rrule,
        start=start,
        end=end,
        zone_name=timezone,
        cap=settings.CLEARWAY_MAX_RULE_OCCURRENCES,
        bounded=False,
        before=max(now, start) + timedelta(days=settings.CLEARWAY_HORIZON_DAYS),
    )


@retry_on_conflict
@transaction.atomic
def freeze_schedule(
    *,
    reason: str,
    start: datetime,
    end: datetime | None = None,
    timezone: str = "UTC",
    rrule: str = "",
    systems: Iterable[str] = (),
    by: User | None,
    now: datetime | None = None,
) -> Freeze:
    """Schedule a freeze: one-off, open-ended (no `end`) or recurring in a named zone."""
    _require_admin(by)
    now = now or django_timezone.now()
    systems = sorted(set(systems))
    rule = _check_schedule(
        reason=reason,
        start=start,
        end=end,
        timezone=timezone,
        rrule=rrule,
        systems=systems,
        now=now,
    )
    freeze = Freeze.objects.create(
        reason=reason.strip(),
        start=start,
        end=end,
        timezone=timezone,
        rrule=rule,
        created_by=by,
        created_at=now,
        expanded_until=max(now, start) + timedelta(days=settings.CLEARWAY_HORIZON_DAYS)
        if rule
        else None,
    )
    freeze.systems.set(System.objects.filter(slug__in=systems))
    calendar_change_record(reason=f"change freeze #{freeze.pk} scheduled")
    timeline_refresh_freeze()
    return freeze


@retry_on_conflict
@transaction.atomic
def freeze_cancel(*, freeze_id: int, by: User | None, now: datetime | None = None) -> Freeze:
    """Call a freeze off. The row stays, as history; a running one-off freeze ends now."""
    _require_admin(by)
    now = now or django_timezone.now()
    freeze = Freeze.objects.select_for_update().filter(pk=freeze_id).first()
    if freeze is None:
        raise NotFound(f"There is no freeze #{freeze_id}.")
    if freeze.cancelled_at is not None or freeze.lifted_at is not None:
        raise Conflict(f"Freeze #{freeze_id} was already called off.", code="invalid_status")
    if not freeze.rrule and freeze.end is not None and freeze.end <= now:
        raise Conflict(f"Freeze #{freeze_id} is over already.", code="invalid_status")
    if not freeze.rrule and freeze.start < now:
        # What already happened stays in the history: lift it from now on.
        freeze.end, freeze.lifted_at, freeze.lifted_by = now, now, by
        freeze.save(update_fields=["end", "lifted_at", "lifted_by"])
    else:
        freeze.cancelled_at, freeze.cancelled_by = now, by
        freeze.save(update_fields=["cancelled_at", "cancelled_by"])
    calendar_change_record(reason=f"change freeze #{freeze.pk} called off")
    timeline_refresh_freeze()
    return freeze


@transaction.atomic
def freezes_refresh_horizon(*, now: datetime | None = None) -> int:
    """Daily: roll live recurring freezes on to the planning horizon, as blackouts are."""
    now = now or django_timezone.now()
    until = now + timedelta(days=settings.CLEARWAY_HORIZON_DAYS)
    rolled = (
        Freeze.objects.filter(cancelled_at__isnull=True, lifted_at__isnull=True)
        .exclude(rrule="")
        .filter(Q(expanded_until__isnull=True) | Q(expanded_until__lt=until))
        .update(expanded_until=until)
    )
    if rolled:
        calendar_change_record(reason="recurring change freezes rolled to the horizon")
        timeline_refresh_freeze()
    return rolled

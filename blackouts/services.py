"""Writes to blackouts. Each change re-evaluates the jobs it touches."""

import bisect
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F
from django.utils import timezone as django_timezone

from blackouts.models import Blackout, BlackoutOccurrence
from scheduling import recurrence
from scheduling.calendar_feeds.stored import feed_texts_store
from scheduling.choices import FindingKind, Severity
from scheduling.db import retry_on_conflict
from scheduling.engine import FAR_FUTURE
from scheduling.errors import InvalidInput
from scheduling.instants import instant_errors, instant_problem
from scheduling.models import System, Team
from scheduling.selectors import unknown_systems
from scheduling.services.calendar import calendar_change_record, calendar_changed
from scheduling.services.calendar_batch import calendar_batch
from scheduling.services.occurrences import horizon_end
from scheduling.text import title_problem


def _iso_instant(value: str, *, wall: time) -> datetime:
    """A typed exception; a date alone means that day's occurrence, at the start's wall time."""
    try:
        if len(value.strip()) == 10:
            return datetime.combine(date.fromisoformat(value.strip()), wall)
        return datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput.for_field(
            "exdates", f"{value!r} is not an ISO 8601 date-time."
        ) from None


def _parse_exdates(
    exdates: Iterable[datetime | str], tz_name: str, *, start: datetime
) -> list[datetime]:
    tz = recurrence.zone(tz_name)
    wall = start.astimezone(tz).time()
    parsed = []
    for value in exdates:
        moment = value if isinstance(value, datetime) else _iso_instant(value, wall=wall)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=tz)
        # Checked before converting: year 1 or 9999 overflows across an offset,
        # and the API's words (scheduling.instants) reach the page as well.
        if problem := instant_problem(moment):
            raise InvalidInput.for_field("exdates", f"{value!s}: {problem}")
        parsed.append(moment.astimezone(UTC))
    return sorted(set(parsed))


def check_blackout(
    *,
    title: str,
    systems: Iterable[str],
    start: datetime,
    end: datetime,
    timezone: str,
    rrule: str,
    exdates: Iterable[datetime | str],
    severity: str,
    now: datetime,
    stored_exdates: Iterable[datetime] = (),
) -> tuple[str, list[datetime]]:
    """Validate a blackout; return its normalised rule and UTC exdates.

    `stored_exdates`: exceptions it already had under the same rule, which an
    edit of something else does not check again.
    """
    errors: dict[str, list[str]] = {}
    if problem := title_problem(title, noun="blackout"):
        errors["title"] = [problem]
    if missing := unknown_systems(systems=systems):
        errors["systems"] = [f"Unknown system(s): {', '.join(missing)}."]
    if severity not in Severity.values:
        errors["severity"] = ["Severity must be refuse or flag."]
    if times := instant_errors({"start": start, "end": end}):
        errors.update(times)
    elif start.astimezone(UTC) >= end.astimezone(UTC):  # one shared tzinfo compares wall times
        errors["end"] = ["The end must be after the start."]
    if errors:
        raise InvalidInput("The blackout is not valid.", fields=errors)
    recurrence.zone(timezone)
    parsed = _parse_exdates(exdates, timezone, start=start)
    if not rrule:
        if parsed:
            raise InvalidInput.for_field("exdates", "Only a recurring blackout has exceptions.")
        return "", []
    rule = recurrence.validate_rule(
        rrule_text=rrule,
        start=start,
        end=end,
        zone_name=timezone,
        cap=settings.CLEARWAY_MAX_RULE_OCCURRENCES,
        bounded=False,
        before=max(horizon_end(now=now), start + timedelta(days=1)),
        exdates=parsed,
    )
    stored = set(stored_exdates)
    _check_exceptions_are_occurrences(
        rule=rule, start=start, zone_name=timezone, exdates=[x for x in parsed if x not in stored]
    )
    return rule, parsed


def _check_exceptions_are_occurrences(
    *, rule: str, start: datetime, zone_name: str, exdates: list[datetime]
) -> None:
    """Each exception names an occurrence's start: one that names none (a typo, a
    date read as midnight) would be stored and skip nothing, without a word."""
    if not exdates:
        return
    tz = recurrence.zone(zone_name)
    starts: list[datetime] = []
    walk = recurrence.build_rule(rrule_text=rule, dtstart=start.astimezone(tz), field="exdates")
    for local in walk:
        starts.append(local.astimezone(UTC))
        if starts[-1] >= exdates[-1]:
            break
    known = set(starts)
    for moment in exdates:
        if moment in known:
            continue
        at = bisect.bisect(starts, moment)
        nearest = starts[max(at - 1, 0) : at + 1]
        near = " or ".join(f"{s.astimezone(tz):%a %d %b %Y %H:%M}" for s in nearest)
        raise InvalidInput.for_field(
            "exdates",
            f"{moment.astimezone(tz):%Y-%m-%d %H:%M} is not when an occurrence starts"
            + (f"; did you mean {near}?" if near else "."),
        )


def blackout_materialise(
    *, blackout: Blackout, now: datetime | None = None
) -> tuple[datetime, datetime] | None:
    """Store the blackout's occurrences up to the rolling horizon; return the span where
    they changed (None: the same occurrences as before)."""
    now = now or django_timezone.now()
    until = horizon_end(now=now)
    stored = BlackoutOccurrence.objects.filter(blackout=blackout)
    before = set(stored.values_list("start", "end"))
    stored.delete()
    if blackout.rrule:
        occurrences = [
            (o.start, o.end)
            for o in recurrence.expand(
                rrule_text=blackout.rrule,
                start=blackout.start,
                end=blackout.end,
                zone_name=blackout.timezone,
                exdates=[datetime.fromisoformat(x) for x in blackout.exdates],
                before=until,
                cap=settings.CLEARWAY_MAX_RULE_OCCURRENCES,
            )
        ]
    else:
        occurrences = [(blackout.start, blackout.end)]
    BlackoutOccurrence.objects.bulk_create(
        BlackoutOccurrence(blackout=blackout, start=s, end=e) for s, e in occurrences
    )
    Blackout.objects.filter(pk=blackout.pk).update(materialised_until=until)
    calendar_change_record(reason=f"blackout #{blackout.pk} occurrences")
    changed = before.symmetric_difference(occurrences)
    if not changed:
        return None
    return min(s for s, _ in changed), max(e for _, e in changed)


def _span(blackout: Blackout) -> tuple[datetime, datetime]:
    """The range a blackout can touch: its first start to its last end (or forever)."""
    if not blackout.rrule:
        return blackout.start, blackout.end
    last = blackout.occurrences.order_by("-end").values_list("end", flat=True).first()
    return blackout.start, last if last and "COUNT" in blackout.rrule else FAR_FUTURE


def _affected_systems(blackout: Blackout) -> list[str] | None:
    if blackout.applies_to_all:
        return None
    return list(blackout.systems.values_list("slug", flat=True))


@retry_on_conflict
@transaction.atomic
def blackout_create(
    *,
    team: Team,
    title: str,
    start: datetime,
    end: datetime,
    systems: Iterable[str] = (),
    reason: str = "",
    timezone: str = "UTC",
    rrule: str = "",
    exdates: Iterable[datetime | str] = (),
    severity: str = Severity.REFUSE,
    by: User | None = None,
    now: datetime | None = None,
) -> Blackout:
    now = now or django_timezone.now()
    systems = list(systems)
    rule, parsed = check_blackout(
        title=title,
        systems=systems,
        start=start,
        end=end,
        timezone=timezone,
        rrule=rrule,
        exdates=exdates,
        severity=severity,
        now=now,
    )
    blackout = Blackout.objects.create(
        team=team,
        title=title.strip(),
        reason=reason,
        start=start,
        end=end,
        timezone=timezone,
        rrule=rule,
        exdates=[x.isoformat() for x in parsed],
        severity=severity,
        applies_to_all=not systems,
        created_by=by,
    )
    blackout.systems.set(System.objects.filter(slug__in=systems))
    blackout_materialise(blackout=blackout, now=now)
    lo, hi = _span(blackout)
    calendar_changed(
        start=lo,
        end=hi,
        systems=_affected_systems(blackout),
        reason=f"blackout '{title}' added",
        kinds=(FindingKind.BLACKOUT,),
    )
    feed_texts_store(kind="blackout", ids=[blackout.pk], now=now)
    return blackout


@retry_on_conflict
@transaction.atomic
def _stored_exdates(blackout: Blackout, fields: dict) -> list[datetime]:
    """The exceptions the blackout has, when the edit keeps its rule, start and zone:
    one saved before exceptions were checked must not block a change of title."""
    if (fields["rrule"], fields["start"], fields["timezone"]) != (
        blackout.rrule,
        blackout.start,
        blackout.timezone,
    ):
        return []
    return [datetime.fromisoformat(x).astimezone(UTC) for x in blackout.exdates or []]


def blackout_update(
    *, blackout: Blackout, now: datetime | None = None, **changes: object
) -> Blackout:
    """Change a blackout; jobs under its old and its new windows are re-evaluated."""
    now = now or django_timezone.now()
    old_span, old_systems = _span(blackout), _affected_systems(blackout)
    fields = {
        "title": blackout.title,
        "reason": blackout.reason,
        "start": blackout.start,
        "end": blackout.end,
        "timezone": blackout.timezone,
        "rrule": blackout.rrule,
        "exdates": blackout.exdates,
        "severity": blackout.severity,
        "systems": list(blackout.systems.values_list("slug", flat=True)),
        "team": blackout.team,
    }
    unknown = set(changes) - set(fields)
    if unknown:
        raise InvalidInput(f"Cannot change {', '.join(sorted(unknown))} on a blackout.")
    fields.update({k: v for k, v in changes.items() if v is not None})
    rule, parsed = check_blackout(
        title=fields["title"],
        systems=fields["systems"],
        start=fields["start"],
        end=fields["end"],
        timezone=fields["timezone"],
        rrule=fields["rrule"],
        exdates=fields["exdates"],
        severity=fields["severity"],
        now=now,
        stored_exdates=_stored_exdates(blackout, fields),
    )
    for key in ("title", "reason", "start", "end", "timezone", "severity", "team"):
        setattr(blackout, key, fields[key])
    blackout.rrule, blackout.exdates = rule, [x.isoformat() for x in parsed]
    blackout.applies_to_all = not fields["systems"]
    blackout.version = F("version") + 1
    blackout.save()
    blackout.refresh_from_db(fields=["version"])
    blackout.systems.set(System.objects.filter(slug__in=fields["systems"]))
    blackout_materialise(blackout=blackout, now=now)
    new_span, new_systems = _span(blackout), _affected_systems(blackout)
    systems = None if old_systems is None or new_systems is None else old_systems + new_systems
    calendar_changed(
        start=min(old_span[0], new_span[0]),
        end=max(old_span[1], new_span[1]),
        systems=systems,
        reason=f"blackout '{blackout.title}' changed",
        kinds=(FindingKind.BLACKOUT,),
    )
    feed_texts_store(kind="blackout", ids=[blackout.pk], now=now)
    return blackout


@retry_on_conflict
@transaction.atomic
def blackout_delete(*, blackout: Blackout) -> None:
    span, systems = _span(blackout), _affected_systems(blackout)
    title = blackout.title
    blackout.delete()
    calendar_changed(
        start=span[0],
        end=span[1],
        systems=systems,
        reason=f"blackout '{title}' removed",
        kinds=(FindingKind.BLACKOUT,),
    )


def blackouts_of_team_renamed(*, team: Team) -> None:
    """A team's new name or slug reaches its blackouts' stored rows (inside the rename)."""
    with calendar_batch(reason=f"team {team.slug} renamed: its blackouts"):
        for blackout in team.blackouts.prefetch_related("systems"):
            start, end = _span(blackout)
            calendar_changed(
                start=start,
                end=end,
                systems=_affected_systems(blackout),
                reason=f"blackout #{blackout.pk} renamed",
                kinds=(FindingKind.BLACKOUT,),
            )


@retry_on_conflict
@transaction.atomic
def blackouts_refresh_horizon(*, now: datetime | None = None) -> int:
    """Daily: extend recurring blackouts' occurrences to the rolling horizon.

    What the roll adds is a blackout like any other: its timeline rows are
    written and the jobs under it re-evaluated, in one calendar change for all
    the blackouts (joined with the rest of the daily roll when called in it).
    """
    count = 0
    with calendar_batch(reason="recurring blackouts rolled to the horizon"):
        for blackout in Blackout.objects.exclude(rrule=""):
            changed = blackout_materialise(blackout=blackout, now=now)
            if changed is not None:
                calendar_changed(
                    start=changed[0],
                    end=changed[1],
                    systems=_affected_systems(blackout),
                    reason=f"blackout '{blackout.title}' rolled to the horizon",
                    kinds=(FindingKind.BLACKOUT,),
                )
            # Its feed text lists DST exceptions up to the horizon: rendered
            # here, in the daily task, not by the day's first feed.
            feed_texts_store(kind="blackout", ids=[blackout.pk], now=now)
            count += 1
    return count

"""Writes to maintenance jobs: booking, editing and evaluation."""

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F
from django.utils import timezone as django_timezone

from scheduling import conflicts, recurrence
from scheduling.choices import FindingKind, Impact, JobAction
from scheduling.engine import decide
from scheduling.errors import InvalidInput, NotAllowed
from scheduling.instants import instant_errors
from scheduling.models import (
    ApiToken,
    JobEvent,
    JobOccurrence,
    MaintenanceJob,
    StandardChange,
    System,
    Team,
)
from scheduling.selectors import is_member, unknown_systems
from scheduling.services.catalogue import job_set_impacted
from scheduling.services.occurrences import job_materialise
from scheduling.text import title_problem
from scheduling.vocabulary import duration_text


def check_job_window(
    *,
    systems: Iterable[str],
    start: datetime,
    end: datetime,
    timezone: str,
    rrule: str,
    impact: str,
) -> str:
    """Validate what a job books; return its normalised RRULE ("" when one-off)."""
    errors: dict[str, list[str]] = {}
    systems = list(systems)
    if not systems:
        errors["systems"] = ["Book at least one system."]
    elif missing := unknown_systems(systems=systems):
        errors["systems"] = [f"Unknown system(s): {', '.join(missing)}."]
    if impact not in Impact.values:
        errors["impact"] = [f"Impact must be one of {', '.join(Impact.values)}."]
    if times := instant_errors({"start": start, "end": end}):
        errors.update(times)
    elif start.astimezone(UTC) >= end.astimezone(UTC):  # one shared tzinfo compares wall times
        errors["end"] = ["The end must be after the start."]
    try:
        recurrence.zone(timezone)
    except InvalidInput as exc:
        errors.update(exc.fields)
    if errors:
        raise InvalidInput("The job is not valid.", fields=errors)
    if not rrule:
        return ""
    return recurrence.validate_rule(
        rrule_text=rrule,
        start=start,
        end=end,
        zone_name=timezone,
        cap=settings.CLEARWAY_MAX_JOB_OCCURRENCES,
        bounded=True,
    )


@transaction.atomic
def maintenance_job_create(
    *,
    team: Team,
    title: str,
    systems: Iterable[str],
    start: datetime,
    end: datetime,
    impact: str,
    timezone: str = "UTC",
    rrule: str = "",
    description: str = "",
    emergency: bool = False,
    justification: str = "",
    template: StandardChange | None = None,
    by: User | None = None,
    now: datetime | None = None,
    token: ApiToken | None = None,
) -> MaintenanceJob:
    """Book a job as a draft and evaluate it, so its findings show at once."""
    if by is not None and not is_member(by, team):
        raise NotAllowed(f"Only members of {team.name} can book jobs for it.")
    systems = list(systems)
    if problem := title_problem(title, noun="job"):
        raise InvalidInput("The job is not valid.", fields={"title": [problem]})
    rule = check_job_window(
        systems=systems, start=start, end=end, timezone=timezone, rrule=rrule, impact=impact
    )
    job = MaintenanceJob.objects.create(
        team=team,
        title=title.strip(),
        description=description,
        start=start,
        end=end,
        timezone=timezone,
        rrule=rule,
        impact=impact,
        emergency=emergency,
        justification=justification,
        template=template,
        created_by=by,
    )
    job.systems.set(System.objects.filter(slug__in=systems))
    job_set_impacted(job=job)
    job_materialise(job=job)
    maintenance_job_evaluate(job=job, now=now)
    assert job.evaluated_at is not None, "maintenance_job_evaluate sets it"
    JobEvent.objects.create(
        job=job,
        at=job.evaluated_at,
        actor=by,
        token=token,
        action=JobAction.CREATED,
        to_status=job.status,
        decision=job.decision,
        findings=job.findings,
    )
    return job


@transaction.atomic
def _check_template_fit(
    *, job: MaintenanceJob, systems: list[str], impact: str, start: datetime, end: datetime
) -> None:
    """A standard change is pre-approved only as its template describes it, on edit too:
    no longer, on no other systems, with no heavier impact."""
    template = job.template
    if template is None:
        return
    errors: dict[str, list[str]] = {}
    if end - start > template.max_duration:
        errors["end"] = [
            f"'{template.title}' lasts at most {duration_text(template.max_duration)}."
        ]
    allowed = set(template.systems.values_list("slug", flat=True))
    if extra := sorted(set(systems) - allowed):
        errors["systems"] = [f"'{template.title}' does not cover {', '.join(extra)}."]
    # Impact.values runs from the heaviest to the lightest.
    if Impact.values.index(impact) < Impact.values.index(template.impact):
        errors["impact"] = [f"'{template.title}' is pre-approved up to {template.impact}."]
    if errors:
        raise InvalidInput(
            "This goes beyond its standard change; book a normal job for it.", fields=errors
        )


def maintenance_job_change_window(
    *,
    job: MaintenanceJob,
    systems: Iterable[str] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    timezone: str | None = None,
    rrule: str | None = None,
    impact: str | None = None,
    now: datetime | None = None,
) -> bool:
    """Apply new times, systems, rule or impact; return whether anything changed."""
    current_systems = sorted(job.systems.values_list("slug", flat=True))
    new_systems = sorted(set(systems)) if systems is not None else current_systems
    new: dict[str, Any] = {
        "start": start if start is not None else job.start,
        "end": end if end is not None else job.end,
        "timezone": timezone if timezone is not None else job.timezone,
        "rrule": rrule if rrule is not None else job.rrule,
        "impact": impact if impact is not None else job.impact,
    }
    new["rrule"] = check_job_window(systems=new_systems, **new)
    _check_template_fit(
        job=job, systems=new_systems, impact=new["impact"], start=new["start"], end=new["end"]
    )
    changed = new_systems != current_systems or any(
        getattr(job, key) != value for key, value in new.items()
    )
    if not changed:
        return False
    for key, value in new.items():
        setattr(job, key, value)
    job.version = F("version") + 1
    job.save(update_fields=[*new, "version", "updated_at"])
    job.refresh_from_db(fields=["version"])
    job.systems.set(System.objects.filter(slug__in=new_systems))
    job_set_impacted(job=job)
    job_materialise(job=job)
    maintenance_job_evaluate(job=job, now=now)
    return True


def upcoming_windows(*, job: MaintenanceJob, now: datetime) -> list[tuple[datetime, datetime]]:
    """The job's windows that have not ended; all of them once every one has."""
    windows = list(
        JobOccurrence.objects.filter(job=job).order_by("start").values_list("start", "end")
    )
    upcoming = [(s, e) for s, e in windows if e > now]
    return upcoming or windows


def without_freezes(evaluation: conflicts.Evaluation) -> conflicts.Evaluation:
    """The evaluation a job's status follows: a freeze is a gate condition, not a finding.

    A freeze pauses approved jobs (their gate closes while it lasts) and must
    not conflict them; submit refuses new bookings inside one on its own.
    """
    findings = [f for f in evaluation.findings if f.kind != FindingKind.FREEZE]
    if len(findings) == len(evaluation.findings):
        return evaluation
    return conflicts.Evaluation(
        decision=decide(findings), findings=findings, impacted=evaluation.impacted
    )


def maintenance_job_evaluate(
    *, job: MaintenanceJob, now: datetime | None = None
) -> conflicts.Evaluation:
    """Evaluate the job's remaining windows now and store the result on it."""
    now = now or django_timezone.now()
    windows = upcoming_windows(job=job, now=now)
    evaluation = without_freezes(
        conflicts.evaluate(
            systems=job.systems.values_list("slug", flat=True),
            start=windows[0][0],
            end=windows[-1][1],
            impact=job.impact,
            exclude_job=job.pk,
            occurrences=windows,
        )
    )
    return maintenance_job_store_evaluation(job=job, evaluation=evaluation, now=now)


def maintenance_job_store_evaluation(
    *, job: MaintenanceJob, evaluation: conflicts.Evaluation, now: datetime
) -> conflicts.Evaluation:
    """Store an evaluation made `now` on the job (one made for many jobs at once, too)."""
    job.decision = evaluation.decision
    job.findings = [finding.as_dict() for finding in evaluation.findings]
    job.evaluated_at = now
    job.save(update_fields=["decision", "findings", "evaluated_at"])
    return evaluation

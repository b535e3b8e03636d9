"""What publishing a deadline would do to booked jobs, before it is published.

The preview publishes the deadline and re-evaluates the jobs under its
traffic window exactly as the re-evaluation task will, then rolls all of it
back (notifications and queued tasks included). So the answer is the one
publishing applies, not a second rule that could drift from it.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone as django_timezone

from deadlines.models import Cohort, Deadline
from deadlines.services import deadline_create, traffic_window
from deadlines.uploads import UploadRefused, deadlines_upload
from scheduling.choices import BOOKED_STATUSES, JobStatus, ReviewStatus
from scheduling.models import MaintenanceJob, ReviewRequest, Team
from scheduling.services.reevaluation import jobs_touching, reevaluate_jobs


class _Rollback(Exception):
    """Raised to undo the trial publication."""


@dataclass(frozen=True)
class JobImpact:
    """One booked job publishing would change: how, for which teams, in which windows."""

    job_id: int
    title: str
    team: str
    status: str
    becomes: str
    effect: str  # "conflicted", "back_to_review" or "reviews_requested"
    teams_asked: tuple[str, ...]
    windows: tuple[tuple[datetime, datetime], ...]
    findings: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "job": self.job_id,
            "title": self.title,
            "team": self.team,
            "status": self.status,
            "becomes": self.becomes,
            "effect": self.effect,
            "teams_asked": list(self.teams_asked),
            "windows": [{"start": s.isoformat(), "end": e.isoformat()} for s, e in self.windows],
            "findings": self.findings,
        }


def _effect(before: str, after: str, asked: set[str]) -> str | None:
    if after == JobStatus.CONFLICTED and before != after:
        return "conflicted"
    if before == JobStatus.APPROVED and after == JobStatus.PENDING:
        return "back_to_review"
    if asked:
        return "reviews_requested"
    return None


def deadline_preview(
    *,
    team: Team,
    title: str,
    due: datetime,
    cohort_size: int | None = None,
    cohort: Cohort | None = None,
    systems: Iterable[str] | None = None,
    course: str = "",
    by: AbstractBaseUser | None = None,
    now: datetime | None = None,
) -> list[JobImpact]:
    """The booked jobs that publishing this deadline would take out of approval or flag.

    Validation and permissions are create's own: an invalid body raises the
    same errors. Nothing is saved.
    """
    now = now or django_timezone.now()
    impacts: list[JobImpact] = []
    try:
        with transaction.atomic():
            deadline = deadline_create(
                team=team,
                title=title,
                due=due,
                cohort_size=cohort_size,
                cohort=cohort,
                systems=systems,
                course=course,
                by=by,
            )
            impacts = _trial(deadlines=[deadline], now=now)
            raise _Rollback
    except _Rollback:
        pass
    return impacts


def upload_preview(*, now: datetime | None = None, **upload: Any) -> list[JobImpact]:
    """What an upload (deadlines_upload's arguments) would do to booked jobs; nothing is saved.

    Rows that would be created, updated or withdrawn all count, as publishing
    the upload re-evaluates the jobs under each of them.
    """
    now = now or django_timezone.now()
    impacts: list[JobImpact] = []
    try:
        with transaction.atomic():
            summary = deadlines_upload(now=now, **upload)
            changed = [*summary.created, *summary.updated, *summary.withdrawn]
            impacts = _trial(deadlines=changed, now=now)
            raise _Rollback
    except _Rollback:
        pass
    except UploadRefused as refused:
        raise refused.for_preview() from None
    return impacts


def _trial(*, deadlines: list[Deadline], now: datetime) -> list[JobImpact]:
    changes = [
        (*traffic_window(d.due), list(d.systems.values_list("slug", flat=True))) for d in deadlines
    ]
    touched = sorted(
        {
            job_id
            for start, end, slugs in changes
            for job_id in jobs_touching(start=start, end=end, systems=slugs, now=now)
        }
    )
    before = dict(
        MaintenanceJob.objects.filter(pk__in=touched, status__in=BOOKED_STATUSES).values_list(
            "pk", "status"
        )
    )
    last_review = ReviewRequest.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    # The tasks publishing enqueues, run here with the same arguments.
    for start, end, slugs in changes:
        reevaluate_jobs(start=start, end=end, systems=slugs, reason="preview", now=now)
    asked: dict[int, set[str]] = {}
    for job_id, slug in ReviewRequest.objects.filter(
        pk__gt=last_review, job_id__in=before, status=ReviewStatus.PENDING
    ).values_list("job_id", "team__slug"):
        asked.setdefault(job_id, set()).add(slug)
    sources = {f"deadline:{d.pk}" for d in deadlines}
    spans = [(start, end) for start, end, _ in changes]
    impacts = []
    jobs = MaintenanceJob.objects.filter(pk__in=before).select_related("team").order_by("start")
    for job in jobs:
        effect = _effect(before[job.pk], job.status, asked.get(job.pk, set()))
        if effect is None:
            continue
        mine = [f for f in job.findings if sources & set(f.get("sources", []))]
        windows = tuple(
            (s, e)
            for s, e in job.occurrences.filter(end__gt=now)
            .order_by("start")
            .values_list("start", "end")
            if any(s < hi and e > lo for lo, hi in spans)
        )
        impacts.append(
            JobImpact(
                job_id=job.pk,
                title=job.title,
                team=job.team.slug,
                status=before[job.pk],
                becomes=job.status,
                effect=effect,
                teams_asked=tuple(sorted(asked.get(job.pk, set()))),
                windows=windows,
                findings=mine,
            )
        )
    return impacts

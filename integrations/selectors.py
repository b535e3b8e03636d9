"""Reads for the GitHub App: which job a deployment is about."""

import json
import re
from datetime import datetime
from typing import Any

from integrations.models import DeploymentReview, GitHubEnvironmentMapping
from scheduling.choices import JobStatus
from scheduling.models import Delivery, JobOccurrence, MaintenanceJob

_JOB_NUMBER = re.compile(r"[0-9]{1,18}")


def environment_mapping(*, repository: str, environment: str) -> GitHubEnvironmentMapping | None:
    return (
        GitHubEnvironmentMapping.objects.filter(
            repository__iexact=repository, environment__iexact=environment
        )
        .prefetch_related("systems")
        .first()
    )


def requested_job_id(deployment: dict[str, Any]) -> int | str | None:
    """The deployment payload's `clearway_job`: a job id, an error message, or None.

    GitHub passes a deployment's payload as the workflow gave it: an object, or
    a string holding JSON (`gh api ... -f payload=...`).
    """
    payload = deployment.get("payload")
    if isinstance(payload, str):
        try:
            payload = json.loads(payload) if payload.strip() else {}
        except (ValueError, RecursionError):
            payload = {}
    if not isinstance(payload, dict) or payload.get("clearway_job") in (None, ""):
        return None
    value = payload["clearway_job"]
    text = str(value).strip().removeprefix("#")
    # ASCII digits only: str.isdigit() also accepts '²', which int() refuses.
    if isinstance(value, bool) or not _JOB_NUMBER.fullmatch(text):
        return f"The deployment's clearway_job {str(value)[:40]!r} is not a job number."
    return int(text)


def job_in_window(*, system_ids: list[int], at: datetime) -> MaintenanceJob | None:
    """The approved job on these systems whose window contains `at`.

    Should several, the one whose window started first (then the lowest id):
    the answer must not depend on the database's row order.
    """
    occurrence = (
        JobOccurrence.objects.filter(
            job__status=JobStatus.APPROVED,
            job__systems__in=system_ids,
            start__lte=at,
            end__gt=at,
        )
        .select_related("job")
        .order_by("start", "job_id")
        .first()
    )
    return occurrence.job if occurrence else None


def deployment_reviewed(*, repository: str, deployment_id: int | None) -> bool:
    """Whether this deployment was reviewed already (GitHub asks once per deployment)."""
    return (
        deployment_id is not None
        and DeploymentReview.objects.filter(
            repository=repository, deployment_id=deployment_id
        ).exists()
    )


def review_answers(*, review: DeploymentReview) -> list[Delivery]:
    """What was sent (or is being retried) to GitHub for this review, newest first."""
    return list(
        Delivery.objects.filter(channel=f"github:{review.pk}").order_by("-created_at", "-pk")
    )

"""The GitHub App's decisions: receive a verified webhook, answer a deployment review.

A deployment protection rule asks whether a workflow run may deploy to an
environment. The answer is the CI gate's (scheduling.gate), sent to GitHub as
a Delivery (retried with backoff, failures in the admin) and audited on the
job. An approved job whose window has not opened yet is answered when it
opens, by the every-minute sweep `deployment_reviews_process_due`.
"""

import re
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from integrations import selectors
from integrations.choices import DeploymentReviewState
from integrations.github.client import api_url, forget_installation_token
from integrations.models import DeploymentReview, GitHubDelivery
from scheduling.choices import JobAction, JobStatus
from scheduling.errors import InvalidInput
from scheduling.gate import gate, job_snapshot
from scheduling.models import JobEvent, MaintenanceJob
from scheduling.services.messages import job_link
from scheduling.services.notifications import delivery_record

# The one endpoint an answer may go to: the installation token travels with it.
# An owner or repository of only dots would be a path step (`..`) that the HTTP
# client resolves, landing on another endpoint.
_NAME = r"(?!\.{1,2}/)[A-Za-z0-9_.-]+"
_CALLBACK_PATH = re.compile(
    rf"/repos/{_NAME}/{_NAME}/actions/runs/[0-9]+/deployment_protection_rule"
)
# GitHub shows the comment beside the environment; keep it short.
COMMENT_LIMIT = 1000
_DUPLICATE = {"status": "duplicate", "message": "This delivery was handled already."}
_HEADLINE = {
    DeploymentReviewState.APPROVED: "Clearway approved this deployment to {env}.",
    DeploymentReviewState.REJECTED: "Clearway rejected this deployment to {env}.",
    DeploymentReviewState.WAITING: "Clearway will approve this deployment to {env} when the "
    "job's window opens, unless something closes it first.",
}


def github_webhook_receive(
    *, delivery_id: str, event: str, payload: dict[str, Any], now: datetime | None = None
) -> dict[str, Any]:
    """Act on one verified webhook once; a delivery id seen before changes nothing."""
    now = now or timezone.now()
    if not delivery_id or len(delivery_id) > 100:
        raise InvalidInput("The X-GitHub-Delivery header is missing or too long.")
    action = str(payload.get("action") or "")[:60]
    request = None
    if event == "deployment_protection_rule" and action == "requested":
        request = _protection_rule_request(payload)
    with transaction.atomic():
        received = _delivery_new(
            delivery_id=delivery_id,
            event=event,
            action=action,
            payload=payload,
            request=request,
            now=now,
        )
        if received is None:
            return _DUPLICATE
        if event == "ping":
            return {"status": "pong", "message": "Clearway is listening."}
        if (
            event == "installation"
            and action in ("deleted", "suspend")
            and received.installation_id
        ):
            # Its token stops working now; do not offer it to the next answer.
            forget_installation_token(installation_id=received.installation_id)
        if request is None:
            return {"status": "noted", "message": f"Nothing to do for {event}.{action or '-'}."}
        try:
            with transaction.atomic():
                review = _review_requested(received=received, request=request, now=now)
        except IntegrityError:
            # A replay of this deployment stored its review first (a race the
            # check in _delivery_new cannot see): this delivery changes nothing.
            transaction.set_rollback(True)
            return _DUPLICATE
        return {"status": review.state, "review": review.pk, "message": review.comment}


def _delivery_new(
    *,
    delivery_id: str,
    event: str,
    action: str,
    payload: dict[str, Any],
    request: dict[str, Any] | None,
    now: datetime,
) -> GitHubDelivery | None:
    """The delivery, stored; None when it, or the deployment it asks about, was seen."""
    if request is not None and selectors.deployment_reviewed(
        repository=request["repository"], deployment_id=request["deployment_id"]
    ):
        # The same deployment under a fresh X-GitHub-Delivery, which the
        # signature does not cover: a replay.
        return None
    try:
        with transaction.atomic():
            return GitHubDelivery.objects.create(
                delivery_id=delivery_id,
                event=event[:60],
                action=action,
                installation_id=_int(_object(payload.get("installation")).get("id")),
                received_at=now,
            )
    except IntegrityError:
        return None


def github_deliveries_prune(*, now: datetime) -> int:
    """Forget deliveries older than CLEARWAY_GITHUB_DELIVERIES_KEEP; returns how many.

    GitHub redelivers within days, and a replayed deployment review is still
    recognised by its deployment (`deployment_reviewed`), so old ids only grow
    the table.
    """
    keep = settings.CLEARWAY_GITHUB_DELIVERIES_KEEP
    deleted, _ = GitHubDelivery.objects.filter(received_at__lt=now - keep).delete()
    return deleted


def _int(value: Any) -> int | None:
    """A GitHub id: a positive integer that fits the 64-bit columns that store it."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if 0 < value < 2**63 else None


def _object(value: Any) -> dict[str, Any]:
    """A field GitHub sends as an object; anything else reads as an empty one."""
    return value if isinstance(value, dict) else {}


def _protection_rule_request(payload: dict[str, Any]) -> dict[str, Any]:
    """The fields a deployment review needs, checked; a 400 names what is missing."""
    repository = _object(payload.get("repository")).get("full_name")
    environment = payload.get("environment")
    callback = payload.get("deployment_callback_url")
    installation = _int(_object(payload.get("installation")).get("id"))
    deployment = payload.get("deployment") or {}
    fields = {
        "repository": isinstance(repository, str) and 0 < len(repository) <= 200,
        "environment": isinstance(environment, str) and 0 < len(environment) <= 255,
        "installation": installation is not None,
        "deployment_callback_url": isinstance(callback, str)
        and len(callback) <= 500
        and _CALLBACK_PATH.fullmatch(callback.removeprefix(api_url())) is not None,
        "deployment": isinstance(deployment, dict),
    }
    missing = [name for name, ok in fields.items() if not ok]
    if missing:
        raise InvalidInput(
            "The deployment_protection_rule event lacks a usable "
            f"{', '.join(missing)} (the callback must be on {api_url()}).",
            fields={name: ["Missing or not valid."] for name in missing},
        )
    return {
        "repository": repository,
        "environment": environment,
        "callback_url": callback,
        "installation_id": installation,
        "deployment": deployment,
        "deployment_id": _int(deployment.get("id")),
    }


def _find_job(
    *, repository: str, environment: str, deployment: dict[str, Any], now: datetime
) -> tuple[MaintenanceJob | None, str]:
    """The job the deployment is about, or None and why there is none."""
    mapping = selectors.environment_mapping(repository=repository, environment=environment)
    mapped = list(mapping.systems.all()) if mapping else []
    named = selectors.requested_job_id(deployment)
    if isinstance(named, str):
        return None, named
    if named is not None:
        job = MaintenanceJob.objects.filter(pk=named).first()
        if job is None:
            return None, f"The deployment names job #{named}, which does not exist."
        if mapped and not job.systems.filter(pk__in=[s.pk for s in mapped]).exists():
            return None, (
                f"Job #{named} touches none of the systems mapped to {repository} → "
                f"{environment} ({', '.join(s.slug for s in mapped)})."
            )
        return job, ""
    if mapping is None:
        return None, (
            f"The deployment names no Clearway job (clearway_job in its payload) and no "
            f"systems are mapped to {repository} → {environment} in Clearway."
        )
    job = selectors.job_in_window(system_ids=[s.pk for s in mapped], at=now)
    if job is None:
        return None, (
            f"No approved job on {', '.join(s.slug for s in mapped)} has a window open now "
            f"({now:%Y-%m-%d %H:%M} UTC)."
        )
    return job, ""


def _review_requested(
    *, received: GitHubDelivery, request: dict[str, Any], now: datetime
) -> DeploymentReview:
    job, problem = _find_job(
        repository=request["repository"],
        environment=request["environment"],
        deployment=request["deployment"],
        now=now,
    )
    review = DeploymentReview.objects.create(
        delivery=received,
        installation_id=request["installation_id"],
        repository=request["repository"],
        environment=request["environment"],
        deployment_id=request["deployment_id"],
        callback_url=request["callback_url"],
        job=job,
        state=DeploymentReviewState.WAITING,
        next_check_at=now,
        created_at=now,
    )
    if job is None:
        _answer(review, state=DeploymentReviewState.REJECTED, lines=[problem], now=now)
    else:
        _decide(review, job=job, now=now)
    return review


def _window_text(window: tuple[datetime, datetime]) -> str:
    return f"{window[0]:%Y-%m-%d %H:%M} to {window[1]:%Y-%m-%d %H:%M} UTC"


def _decide(review: DeploymentReview, *, job: MaintenanceJob, now: datetime) -> None:
    """Approve, reject or wait, with the gate's reasons."""
    answer = gate(job=job_snapshot(job_id=job.pk), at=now)
    reasons = [reason.message for reason in answer.reasons]
    awaited = (review.window_start, review.window_end) if review.window_end else None
    if answer.allowed:
        lines = [
            f"Job #{job.pk} '{job.title}' is approved; its window "
            f"{_window_text(answer.window)} is open."
        ]
        _answer(review, state=DeploymentReviewState.APPROVED, lines=lines, job=job, now=now)
    elif awaited and now >= awaited[1]:
        lines = [f"The window {_window_text(awaited)} passed before this deployment could run."]
        _answer(
            review, state=DeploymentReviewState.REJECTED, lines=lines + reasons, job=job, now=now
        )
    elif (
        job.status == JobStatus.APPROVED
        and answer.next_window is not None
        and all(reason.code == "outside_window" for reason in answer.reasons)
        and awaited in (None, answer.next_window)
    ):
        _wait(review, job=job, window=answer.next_window, now=now)
    else:
        if job.status != JobStatus.APPROVED and awaited:
            reasons.insert(0, f"Job #{job.pk} left approval (it is {job.status}).")
        _answer(review, state=DeploymentReviewState.REJECTED, lines=reasons, job=job, now=now)


def _comment(review: DeploymentReview, *, state: str, lines: list[str]) -> str:
    """The headline, the gate's reasons and the job's link, short enough for GitHub."""
    parts = [_HEADLINE[state].format(env=review.environment)]
    parts += [f"- {line}" for line in lines if line]
    if review.job is not None:
        parts.append(f"Job #{review.job_id}: {job_link(review.job)}")
    text = "\n".join(parts)
    if len(text) <= COMMENT_LIMIT:
        return text
    # Cut the reasons, never the link: reviewers follow it for the rest.
    link = parts[-1] if review.job is not None else ""
    room = COMMENT_LIMIT - len(link) - 2
    return f"{text[:room]}…\n{link}".rstrip()


def _audit(review: DeploymentReview, *, job: MaintenanceJob | None, action: str, now: datetime):
    if job is None:
        return
    JobEvent.objects.create(
        job=job,
        at=now,
        action=action,
        from_status=job.status,
        to_status=job.status,
        decision=job.decision,
        reason=f"GitHub {review.repository} → {review.environment}: {review.comment}",
    )


def _send(review: DeploymentReview, *, job: MaintenanceJob | None, body: dict, now: datetime):
    delivery_record(
        key=f"github:review:{review.pk}:{review.state}",
        channel=f"github:{review.pk}",
        event=f"github_{review.state}",
        subject=f"GitHub deployment review: {review.repository} → {review.environment}",
        text=review.comment,
        payload={"environment_name": review.environment, **body},
        job=job,
        now=now,
    )


def _answer(
    review: DeploymentReview,
    *,
    state: str,
    lines: list[str],
    now: datetime,
    job: MaintenanceJob | None = None,
) -> None:
    review.state = state
    review.comment = _comment(review, state=state, lines=lines)
    review.decided_at = now
    review.next_check_at = None
    review.save(update_fields=["state", "comment", "decided_at", "next_check_at"])
    action = (
        JobAction.GITHUB_APPROVED
        if state == DeploymentReviewState.APPROVED
        else JobAction.GITHUB_REJECTED
    )
    _audit(review, job=job, action=action, now=now)
    _send(review, job=job, body={"state": state, "comment": review.comment}, now=now)


def _wait(
    review: DeploymentReview,
    *,
    job: MaintenanceJob,
    window: tuple[datetime, datetime],
    now: datetime,
) -> None:
    first = review.window_end is None
    review.window_start, review.window_end = window
    review.next_check_at = window[0]
    review.comment = _comment(
        review,
        state=DeploymentReviewState.WAITING,
        lines=[f"Job #{job.pk} '{job.title}' is approved for {_window_text(window)}."],
    )
    review.save(update_fields=["window_start", "window_end", "next_check_at", "comment"])
    if first:
        _audit(review, job=job, action=JobAction.GITHUB_WAITING, now=now)
        # A comment without a state: GitHub shows it while the deployment waits.
        _send(review, job=job, body={"comment": review.comment}, now=now)


def deployment_review_process_one(*, now: datetime | None = None) -> bool:
    """Claim one waiting review that is due (or whose job left approval) and decide it."""
    now = now or timezone.now()
    with transaction.atomic():
        review = (
            DeploymentReview.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(state=DeploymentReviewState.WAITING)
            .filter(
                Q(next_check_at__lte=now) | Q(job__isnull=True) | ~Q(job__status=JobStatus.APPROVED)
            )
            .order_by("next_check_at", "pk")
            .first()
        )
        if review is None:
            return False
        if review.job is None:
            lines = ["The job this deployment waited for was deleted."]
            _answer(review, state=DeploymentReviewState.REJECTED, lines=lines, now=now)
        else:
            _decide(review, job=review.job, now=now)
        return True


def deployment_reviews_process_due(*, now: datetime | None = None, limit: int = 200) -> int:
    """Every minute: decide the due waiting reviews, one row (and lock) at a time."""
    done = 0
    while done < limit and deployment_review_process_one(now=now):
        done += 1
    return done

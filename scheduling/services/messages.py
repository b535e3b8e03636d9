"""The words and data every notification about a job shares."""

from collections.abc import Iterable
from typing import Any

from django.conf import settings

from scheduling.engine import Slot
from scheduling.links import site_link
from scheduling.models import MaintenanceJob


def job_link(job: MaintenanceJob) -> str:
    return f"{settings.SITE_URL}/jobs/{job.pk}/"


def job_data(job: MaintenanceJob) -> dict[str, Any]:
    return {
        "job": {
            "id": job.pk,
            "title": job.title,
            "team": job.team.slug,
            "status": job.status,
            "decision": job.decision,
            "start": job.start.isoformat(),
            "end": job.end.isoformat(),
            "url": job_link(job),
        },
        "findings": [_linked(finding) for finding in job.findings],
    }


def _linked(finding: dict[str, Any]) -> dict[str, Any]:
    """A finding whose link works from a mail client or a chat: the page's path under SITE_URL."""
    return {**finding, "url": site_link(finding.get("url") or "")}


def findings_text(findings: Iterable[dict[str, Any]], *, limit: int = 5) -> str:
    findings = list(findings)
    lines = [f"- {f['severity'].upper()}: {f['message']}" for f in findings[:limit]]
    if len(findings) > limit:
        lines.append(f"- ... and {len(findings) - limit} more")
    return "\n".join(lines)


def slots_text(slots: Iterable[Slot]) -> str:
    slots = list(slots)
    if not slots:
        return "No clear window was found in the planning horizon."
    return "Next clear windows:\n" + "\n".join(
        f"- {s.start:%Y-%m-%d %H:%M} to {s.end:%Y-%m-%d %H:%M} UTC" for s in slots
    )


def slots_data(slots: Iterable[Slot]) -> list[dict[str, str]]:
    return [{"start": s.start.isoformat(), "end": s.end.isoformat()} for s in slots]


# --- notifications of a job's transitions: (subject, text) ----------------
# The subject gets the "[Clearway] " prefix, and the text the job's link, where
# they are sent (transitions.notify_job_team).


def review_requested(job: MaintenanceJob) -> tuple[str, str]:
    return (
        f"Review requested: job #{job.pk} {job.title}",
        f"{job.team.name} asks you to review job #{job.pk} '{job.title}' "
        f"({job.get_impact_display().lower()}, {job.start:%Y-%m-%d %H:%M} to "
        f"{job.end:%Y-%m-%d %H:%M} UTC). Decision: {job.decision}.\n"
        f"{findings_text(job.findings)}",
    )


def approved(job: MaintenanceJob, *, reason: str) -> tuple[str, str]:
    return (
        f"Approved: job #{job.pk} {job.title}",
        f"Job #{job.pk} '{job.title}' is approved ({reason}).",
    )


def _sentence(reason: str) -> str:
    """`reason` as the end of a sentence: it may quote a finding's message, which ends in one."""
    return reason.rstrip(".") + "."


def conflicted(job: MaintenanceJob, *, reason: str, slots: Iterable[Slot]) -> tuple[str, str]:
    return (
        f"Conflict: job #{job.pk} {job.title} is no longer approved",
        f"Job #{job.pk} '{job.title}' can no longer run as booked: {_sentence(reason)}\n"
        f"{findings_text(job.findings)}\n{slots_text(slots)}",
    )


def emergency_override(job: MaintenanceJob, *, justification: str) -> tuple[str, str]:
    return (
        f"Emergency override: job #{job.pk} {job.title}",
        f"{job.team.name} submitted job #{job.pk} '{job.title}' as an emergency "
        f"despite a refusal. Justification: {justification}\n"
        f"{findings_text(job.findings)}",
    )


def rejected(job: MaintenanceJob, *, reviewer: str, comment: str) -> tuple[str, str]:
    return (
        f"Rejected: job #{job.pk} {job.title}",
        f"{reviewer} rejected job #{job.pk} '{job.title}': {comment or '-'}",
    )


def back_to_review(job: MaintenanceJob, *, reason: str, slots: Iterable[Slot]) -> tuple[str, str]:
    # Like a conflict, it says what collided and where the job could move
    # instead of waiting for the new round.
    return (
        f"Back to review: job #{job.pk} {job.title}",
        f"Job #{job.pk} '{job.title}' needs review again: {_sentence(reason)}\n"
        f"{findings_text(job.findings)}\n{slots_text(slots)}",
    )


def conflict_cleared(job: MaintenanceJob, *, reason: str) -> tuple[str, str]:
    return (
        f"Conflict cleared: job #{job.pk} {job.title} is approved again",
        f"Job #{job.pk} '{job.title}' is approved again: what took it out of approval "
        f"has gone ({reason}). The reviews it had still stand.",
    )


def review_withdrawn(job: MaintenanceJob, *, team: str, reason: str) -> tuple[str, str]:
    return (
        f"Review withdrawn: job #{job.pk} {job.title}",
        f"{team} no longer needs to review job #{job.pk} '{job.title}': the reason it "
        f"was asked has gone ({reason}).",
    )

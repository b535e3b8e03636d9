"""The words and data every notification about a job shares."""

from collections.abc import Iterable
from typing import Any

from django.conf import settings

from scheduling.engine import Slot
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
        "findings": job.findings,
    }


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

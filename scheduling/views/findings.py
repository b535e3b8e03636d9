"""Findings and slots as the templates show them: instants parsed, kinds named."""

from datetime import datetime
from typing import Any

from scheduling.choices import FindingKind, Severity
from scheduling.engine import FAR_FUTURE

SEVERITY_TEXT = {Severity.REFUSE: "Refused", Severity.FLAG: "Flagged"}


def _instant(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def finding_rows(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for finding in findings:
        end = _instant(finding.get("end"))
        kind = finding.get("kind", "")
        rows.append(
            {
                **finding,
                "start_at": _instant(finding.get("start")),
                "end_at": None if end and end >= FAR_FUTURE else end,
                "occurrence_at": _instant(finding.get("occurrence")),
                "kind_label": FindingKind(kind).label if kind in FindingKind.values else kind,
                "severity_text": SEVERITY_TEXT.get(finding.get("severity"), "Note"),
            }
        )
    return rows


def slot_rows(slots: list[dict[str, str]]) -> list[dict[str, Any]]:
    return [
        {**slot, "start_at": _instant(slot["start"]), "end_at": _instant(slot["end"])}
        for slot in slots
    ]

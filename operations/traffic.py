"""What the calendar says about a moment: the traffic forecast and what refuses change.

Reads the same window sources as the conflict engine, so an overrun notice or
a lock alert says exactly what the gate and the calendar would.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from scheduling import conflicts, engine
from scheduling.choices import FindingKind, Severity

# Deadlines chained end to end could extend a stretch far: a few steps suffice.
MAX_EXTENSIONS = 4


@dataclass(frozen=True)
class TrafficPeak:
    """A stretch in which expected students refuse work of the job's impact."""

    start: datetime
    end: datetime
    students: int
    message: str

    def as_dict(self) -> dict:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "students": self.students,
            "message": self.message,
        }


def students_at(*, systems: frozenset[str], at: datetime) -> int:
    """Students expected at `at` on `systems` (dependencies applied): the forecast's peak there."""
    impacted = conflicts.impacted(systems)
    windows = conflicts.busy_windows(systems=impacted, start=at, end=at + timedelta(seconds=1))
    loads = {
        system: sum(
            w.load
            for w in windows
            if w.kind == FindingKind.DEADLINE and w.start <= at < w.end and w.touches({system})
        )
        for system in impacted
    }
    return max(loads.values(), default=0)


def refusing_traffic(
    *, systems: frozenset[str], impact: str, start: datetime, end: datetime
) -> list[TrafficPeak]:
    """The stretches of traffic that refuse work of `impact` on `systems` and begin
    before `end`, each with its real end (not cut at `end`: "until when" must be true)."""
    impacted = conflicts.impacted(systems)
    horizon = end
    for _ in range(MAX_EXTENSIONS):
        windows = [
            w
            for w in conflicts.busy_windows(systems=impacted, start=start, end=horizon)
            if w.kind == FindingKind.DEADLINE
        ]
        # Look as far as the traffic seen lasts, so no stretch is cut short.
        furthest = max((w.end for w in windows), default=horizon)
        if furthest <= horizon:
            break
        horizon = furthest
    findings = engine.fold(
        windows=windows,
        systems=impacted,
        start=start,
        end=horizon,
        impact=impact,
        thresholds=conflicts.thresholds(),
    )
    return [
        TrafficPeak(
            start=f.start,
            end=f.end,
            students=_peak(windows, impacted, f.start, f.end),
            message=f.message,
        )
        for f in findings
        if f.severity == Severity.REFUSE and f.start < end
    ]


def _peak(windows, systems: frozenset[str], start: datetime, end: datetime) -> int:
    """The largest summed load on one system at any instant of [start, end)."""
    edges = sorted({start, *(w.start for w in windows if start < w.start < end)})
    return max(
        (
            sum(w.load for w in windows if w.start <= edge < w.end and w.touches({system}))
            for edge in edges
            for system in systems
        ),
        default=0,
    )

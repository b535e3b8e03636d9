"""The conflict engine: pure functions over busy windows and plain values.

No ORM and no clock here. The window sources (settings.CLEARWAY_WINDOW_SOURCES)
turn blackouts, deadlines, other jobs, allowed windows and the freeze into
`BusyWindow`s; this module folds them into findings, a decision and clear
slots. Every window is half-open, [start, end).
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from scheduling.choices import HEAVY_IMPACTS, Decision, FindingKind, Impact, Severity

# Stands in for "until further notice" (an active freeze).
FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)
# Suggested slots start on quarter hours: nobody wants to start at 14:23:11.
QUARTER_HOUR = timedelta(minutes=15)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_RANK = {Decision.CLEAR: 0, Decision.FLAG: 1, Decision.REFUSE: 2}


@dataclass(frozen=True, slots=True)
class WindowQuery:
    """What a window source is asked: busy windows touching [start, end) on `systems`."""

    start: datetime
    end: datetime
    systems: frozenset[str]
    exclude_job_id: int | None = None


@dataclass(frozen=True, slots=True)
class BusyWindow:
    """One reason a period may not be clear, as a window source reports it.

    `systems` empty means every system. Blackouts, freezes and allowed-window
    gaps carry their own `severity`; deadlines carry a `load` (students) and
    other jobs an `impact`, which the engine weighs against the job's own.
    """

    kind: str
    start: datetime
    end: datetime
    systems: frozenset[str]
    title: str
    source: str
    url: str = ""
    team: str = ""
    severity: str | None = None
    load: int = 0
    impact: str | None = None
    message: str = ""

    def touches(self, systems: frozenset[str]) -> bool:
        return not self.systems or not self.systems.isdisjoint(systems)

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return self.start < end and self.end > start


@dataclass(frozen=True, slots=True)
class Thresholds:
    flag: int
    refuse: int


@dataclass(frozen=True, slots=True)
class Finding:
    kind: str
    severity: str
    start: datetime
    end: datetime
    systems: tuple[str, ...]
    title: str
    message: str
    sources: tuple[str, ...] = ()
    url: str = ""
    teams: tuple[str, ...] = ()
    occurrence: datetime | None = None

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "severity": self.severity,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "systems": list(self.systems),
            "title": self.title,
            "message": self.message,
            "sources": list(self.sources),
            "url": self.url,
            "teams": list(self.teams),
            "occurrence": self.occurrence.isoformat() if self.occurrence else None,
        }


@dataclass(frozen=True, slots=True)
class Slot:
    start: datetime
    end: datetime


@dataclass(slots=True)
class _Peak:
    start: datetime
    end: datetime
    load: int
    windows: list[BusyWindow] = field(default_factory=list)


def decide(findings: Iterable[Finding]) -> str:
    """The worst severity among the findings; `clear` when there are none."""
    worst = Decision.CLEAR
    for finding in findings:
        if _RANK[Decision(finding.severity)] > _RANK[worst]:
            worst = Decision(finding.severity)
    return str(worst)


def worse(a: str, b: str) -> bool:
    """True when decision `a` is worse than decision `b`."""
    return _RANK[Decision(a)] > _RANK[Decision(b)]


def fold(
    *,
    windows: Iterable[BusyWindow],
    systems: frozenset[str],
    start: datetime,
    end: datetime,
    impact: str,
    thresholds: Thresholds,
) -> list[Finding]:
    """Findings for work of `impact` on the (already impacted) `systems` during [start, end)."""
    findings: list[Finding] = []
    others, deadlines = _relevant(windows, systems=systems, start=start, end=end, impact=impact)
    for window, severity in others:
        finding = _finding_from(window, severity=severity, systems=systems)
        if window.kind == FindingKind.OUTSIDE_WINDOW:
            # A gap between allowed windows is as long as the query that found
            # it; what matters is the part of the work that falls in it.
            finding = replace(finding, start=max(finding.start, start), end=min(finding.end, end))
        findings.append(finding)
    if deadlines and impact != Impact.NONE:
        findings.extend(_traffic_findings(deadlines, systems, start, end, impact, thresholds))
    findings.sort(key=lambda f: (f.start, -_RANK[Decision(f.severity)], f.kind, f.title))
    return findings


def _relevant(
    windows: Iterable[BusyWindow],
    *,
    systems: frozenset[str],
    start: datetime,
    end: datetime,
    impact: str,
) -> tuple[list[tuple[BusyWindow, str]], list[BusyWindow]]:
    """The windows that overlap [start, end) and touch `systems`, split in two:
    each non-traffic window with its severity for work of `impact`, and the
    deadlines, whose severity depends on their summed load. The one filter
    `fold` and `blocked_intervals` share, so findings and slots agree."""
    others: list[tuple[BusyWindow, str]] = []
    deadlines: list[BusyWindow] = []
    for window in windows:
        if not window.overlaps(start, end) or not window.touches(systems):
            continue
        if window.kind == FindingKind.DEADLINE:
            deadlines.append(window)
        else:
            severity = window.severity or _maintenance_severity(impact, window.impact)
            others.append((window, str(severity)))
    return others, deadlines


def _maintenance_severity(impact: str, other_impact: str | None) -> str:
    if impact in HEAVY_IMPACTS or other_impact in HEAVY_IMPACTS:
        return Severity.REFUSE
    return Severity.FLAG


def _finding_from(window: BusyWindow, *, severity: str, systems: frozenset[str]) -> Finding:
    touched = systems & window.systems if window.systems else systems
    return Finding(
        kind=window.kind,
        severity=str(severity),
        start=window.start,
        end=window.end,
        systems=tuple(sorted(touched)),
        title=window.title,
        message=window.message or window.title,
        sources=(window.source,),
        url=window.url,
        teams=(window.team,) if window.team else (),
    )


def _traffic_severity(load: int, impact: str, thresholds: Thresholds) -> str | None:
    if load >= thresholds.refuse and impact in HEAVY_IMPACTS:
        return Severity.REFUSE
    if load >= thresholds.flag:
        return Severity.FLAG
    return None


def _peaks(
    deadlines: Sequence[BusyWindow],
    system: str,
    start: datetime,
    end: datetime,
    floor: int,
    split: int | None = None,
) -> list[_Peak]:
    """Maximal runs inside [start, end) where summed load on `system` reaches `floor`.

    With `split`, a run is also cut where the load crosses `split`, so a
    stretch that refuses is reported on its own window instead of inside a
    longer run that only flags.
    """
    edges: dict[datetime, list[tuple[int, BusyWindow]]] = defaultdict(list)
    for window in deadlines:
        if window.systems and system not in window.systems:
            continue
        edges[max(window.start, start)].append((window.load, window))
        edges[min(window.end, end)].append((-window.load, window))
    peaks: list[_Peak] = []
    load = 0
    active: list[BusyWindow] = []
    current: _Peak | None = None
    current_level = 0
    for instant in sorted(edges):
        for delta, window in edges[instant]:
            load += delta
            if delta > 0:
                active.append(window)
            else:
                active.remove(window)
        level = 0 if load < floor or instant >= end else 1
        if level and split is not None and load >= split:
            level = 2
        if current is not None and level != current_level:
            current.end = instant
            current = None
        if level and current is None:
            current = _Peak(start=instant, end=end, load=load)
            current_level = level
            peaks.append(current)
        if current is not None:
            current.load = max(current.load, load)
            current.windows.extend(w for w in active if w not in current.windows)
    return peaks


def _traffic_findings(
    deadlines: Sequence[BusyWindow],
    systems: frozenset[str],
    start: datetime,
    end: datetime,
    impact: str,
    thresholds: Thresholds,
) -> list[Finding]:
    grouped: dict[tuple, list[str]] = defaultdict(list)
    details: dict[tuple, _Peak] = {}
    # Only heavy work can be refused, so only its runs are cut at the refuse threshold.
    split = thresholds.refuse if impact in HEAVY_IMPACTS else None
    for system in sorted(systems):
        for peak in _peaks(deadlines, system, start, end, thresholds.flag, split):
            key = (peak.start, peak.end, peak.load, tuple(w.source for w in peak.windows))
            grouped[key].append(system)
            details[key] = peak
    findings = []
    for key, touched in grouped.items():
        peak = details[key]
        severity = _traffic_severity(peak.load, impact, thresholds)
        if severity is None:
            continue
        biggest = max(peak.windows, key=lambda w: w.load)
        others = len(peak.windows) - 1
        limit = thresholds.refuse if severity == Severity.REFUSE else thresholds.flag
        verb = "refuses" if severity == Severity.REFUSE else "flags"
        # The deadline's own traffic window and due instant (in its message),
        # which people can check against the deadline's page; the overlap of
        # several windows is an artefact of how they were summed.
        message = (
            f"Up to {peak.load:,} students are expected on {', '.join(touched)}: "
            f"{biggest.message or biggest.title}; its high-traffic window runs from "
            f"{_fmt(biggest.start)} to {_fmt(biggest.end)}"
            + (f" (with {others} more deadline{'s' if others > 1 else ''})" if others else "")
            + f". {limit:,} or more {verb} {impact.replace('_', ' ')} work."
        )
        findings.append(
            Finding(
                kind=FindingKind.DEADLINE,
                severity=str(severity),
                start=peak.start,
                end=peak.end,
                systems=tuple(touched),
                title=biggest.title,
                message=message,
                sources=tuple(w.source for w in peak.windows),
                url=biggest.url,
                teams=tuple(sorted({w.team for w in peak.windows if w.team})),
            )
        )
    return findings


def _fmt(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def fold_occurrences(
    *,
    windows: Sequence[BusyWindow],
    systems: frozenset[str],
    occurrences: Iterable[tuple[datetime, datetime]],
    impact: str,
    thresholds: Thresholds,
) -> list[Finding]:
    """Findings of a recurring job, occurrence by occurrence, each tagged with its start."""
    occurrences = list(occurrences)
    findings: list[Finding] = []
    for start, end in occurrences:
        for finding in fold(
            windows=windows,
            systems=systems,
            start=start,
            end=end,
            impact=impact,
            thresholds=thresholds,
        ):
            findings.append(_with_occurrence(finding, start) if len(occurrences) > 1 else finding)
    return findings


def _with_occurrence(finding: Finding, occurrence: datetime) -> Finding:
    return replace(finding, occurrence=occurrence)


def blocked_intervals(
    *,
    windows: Iterable[BusyWindow],
    systems: frozenset[str],
    impact: str,
    thresholds: Thresholds,
    start: datetime,
    end: datetime,
    at_least: str = Severity.FLAG,
) -> list[tuple[datetime, datetime]]:
    """Merged intervals inside [start, end) where work of `impact` gets a finding.

    With `at_least="flag"` a slot is clear exactly when it overlaps none of
    them: every non-traffic window yields a finding on any overlap, traffic only
    where the summed load reaches the flag threshold. With `at_least="refuse"`
    they are the intervals in which change is refused (the CI state).
    """
    refuse_only = at_least == Severity.REFUSE
    others, deadlines = _relevant(windows, systems=systems, start=start, end=end, impact=impact)
    intervals = [
        (max(window.start, start), min(window.end, end))
        for window, severity in others
        if not refuse_only or severity == Severity.REFUSE
    ]
    floor = thresholds.refuse if refuse_only else thresholds.flag
    counts = impact != Impact.NONE and not (refuse_only and impact not in HEAVY_IMPACTS)
    if deadlines and counts:
        for system in systems:
            for peak in _peaks(deadlines, system, start, end, floor):
                intervals.append((peak.start, peak.end))
    return _merge(intervals)


def _merge(intervals: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    intervals.sort()
    merged: list[tuple[datetime, datetime]] = []
    for lo, hi in intervals:
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def clear_slots(
    *,
    windows: Iterable[BusyWindow],
    systems: frozenset[str],
    impact: str,
    thresholds: Thresholds,
    duration: timedelta,
    after: datetime,
    before: datetime,
    limit: int,
    align: timedelta | None = None,
) -> list[Slot]:
    """Clear slots of `duration`, earliest first: the start of every gap between
    blocked intervals first (distinct choices), then, if `limit` asks for more,
    further back-to-back slots inside the gaps. With `align`, slots start on
    multiples of it (quarter hours: nobody starts work at 05:59)."""
    blocked = blocked_intervals(
        windows=windows,
        systems=systems,
        impact=impact,
        thresholds=thresholds,
        start=after,
        end=before,
    )
    return slots_in_gaps(
        fitting_gaps(blocked, after=after, before=before, duration=duration, align=align),
        duration=duration,
        limit=limit,
    )


def fitting_gaps(
    blocked: Sequence[tuple[datetime, datetime]],
    *,
    after: datetime,
    before: datetime,
    duration: timedelta,
    align: timedelta | None = None,
) -> list[tuple[datetime, datetime]]:
    """The gaps between merged `blocked` intervals that hold `duration`, earliest first."""
    gaps: list[tuple[datetime, datetime]] = []
    cursor = after
    for lo, hi in [*blocked, (before, before)]:
        start = round_up(cursor, align) if align else cursor
        if lo - start >= duration:
            gaps.append((start, lo))
        cursor = max(cursor, hi)
    return gaps


def slots_in_gaps(
    gaps: Sequence[tuple[datetime, datetime]], *, duration: timedelta, limit: int
) -> list[Slot]:
    """The start of every gap first (distinct choices), then back-to-back slots inside them."""
    starts = [lo for lo, _ in gaps[:limit]]
    for lo, hi in gaps:
        if len(starts) >= limit:
            break
        extra = lo + duration
        while extra + duration <= hi and len(starts) < limit:
            starts.append(extra)
            extra += duration
    return [Slot(start=start, end=start + duration) for start in sorted(starts)]


def slots_before(
    blocked: Sequence[tuple[datetime, datetime]],
    *,
    after: datetime,
    before: datetime,
    duration: timedelta,
    limit: int,
    align: timedelta | None = None,
) -> list[Slot]:
    """The clear slots ending by `before`, latest first: the end of each gap first
    (distinct choices), then earlier back-to-back slots inside them."""
    gaps: list[tuple[datetime, datetime]] = []
    cursor = before
    for lo, hi in [*reversed(blocked), (after, after)]:
        end = cursor
        latest = _floor(end - duration, align) if align else end - duration
        if latest >= hi and latest >= after:
            gaps.append((max(hi, after), latest + duration))
        cursor = min(cursor, lo)
    ends = [hi for _, hi in gaps[:limit]]
    starts = [_floor(hi - duration, align) if align else hi - duration for hi in ends]
    for lo, hi in gaps:
        if len(starts) >= limit:
            break
        first = _floor(hi - duration, align) if align else hi - duration
        extra = first - duration
        while extra >= lo and len(starts) < limit:
            starts.append(extra)
            extra -= duration
    return [Slot(start=start, end=start + duration) for start in sorted(starts, reverse=True)]


def _floor(moment: datetime, step: timedelta) -> datetime:
    """`moment` rounded down to a multiple of `step` since the Unix epoch."""
    return moment - (moment - _EPOCH) % step


def round_up(moment: datetime, step: timedelta = QUARTER_HOUR) -> datetime:
    """`moment` rounded up to a multiple of `step` since the Unix epoch.

    Up, never down: a slot suggested at 14:00:30 starts at 14:15, not in the
    past at 14:00. Every UTC offset in use is a multiple of 15 minutes, so a
    UTC quarter hour is a local one too.
    """
    remainder = (moment - _EPOCH) % step
    return moment if not remainder else moment + (step - remainder)

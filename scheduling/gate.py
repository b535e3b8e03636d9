"""Answers for CI: may this job run now (gate), and when is it clear (slots); whether
a system is open for change is scheduling.change_state. Reads only; each answer is
computed at call time against the current calendars."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache

from django.conf import settings
from django.db import connection
from django.utils.module_loading import import_string

from scheduling import conflicts, db, engine, window_cache
from scheduling.choices import ChangeType, FindingKind, Impact, JobStatus, ReviewStatus, Severity
from scheduling.engine import Finding, Slot
from scheduling.links import site_link
from scheduling.models import MaintenanceJob, ReviewRequest
from scheduling.selectors import cache_version
from scheduling.timeline import round_trip
from scheduling.timeline import selectors as timeline
from scheduling.timeline.round_trip import GateRows

_NOT_APPROVED = {
    JobStatus.DRAFT: "Job #{id} has not been submitted for review.",
    JobStatus.PENDING: "Job #{id} is waiting for review by {waiting}.",
    JobStatus.REJECTED: "Job #{id} was rejected.",
    JobStatus.CANCELLED: "Job #{id} was cancelled.",
    JobStatus.DONE: "Job #{id} is done; book a new job to run again.",
}


@dataclass(frozen=True)
class Reason:
    code: str
    message: str
    until: datetime | None = None
    teams: tuple[str, ...] = ()
    url: str = ""

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "message": self.message,
            "until": self.until.isoformat() if self.until else None,
            "teams": list(self.teams),
            # Read by CI logs and bots, away from Clearway's pages.
            "url": site_link(self.url),
        }


@dataclass
class GateAnswer:
    allowed: bool
    job: "JobSnapshot"
    at: datetime
    window: tuple[datetime, datetime] | None
    next_window: tuple[datetime, datetime] | None
    reasons: list[Reason] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def closes_at(self) -> datetime | None:
        """When an open gate closes: its window's end, or a freeze that starts first
        (a freeze inside the window closes the gate only while it lasts)."""
        if not self.allowed or self.window is None:
            return None
        freezes = (
            f.start for f in self.findings if f.kind == FindingKind.FREEZE and f.start > self.at
        )
        return min(freezes, default=self.window[1])


# The longest the gate waits for a table lock (a migration, a LOCK TABLE) before
# it fails closed: a cached snapshot answers without the jobs table, a cold one
# must not hold a worker for the whole DB_LOCK_TIMEOUT_MS while CI keeps polling.
LOCK_WAIT_MS = 200
# How far ahead an answer looks for the end of what refuses change.
LOOK_AHEAD = timedelta(days=31)
# The engine cuts these findings to the window it was asked about; the rest
# carry the real end of their blackout, freeze or job.
CUT_TO_THE_WINDOW = frozenset({FindingKind.DEADLINE, FindingKind.OUTSIDE_WINDOW})


def finding_reason(finding: Finding, *, until: datetime | None = None) -> Reason:
    verb = "flagged_by" if finding.severity == Severity.FLAG else "refused_by"
    code = "freeze" if finding.kind == FindingKind.FREEZE else f"{verb}_{finding.kind}"
    until = until or finding.end
    return Reason(
        code=code,
        message=finding.message,
        until=None if until >= engine.FAR_FUTURE else until,
        teams=finding.teams,
        url=finding.url,
    )


def _refused_until(*, finding: Finding, impact: str, window_end: datetime) -> datetime:
    """When the refusal behind `finding` ends, even if after the window that found it.

    A deadline's traffic or a gap in a system's allowed windows is reported
    only up to the end of the window evaluated; CI asks when it will be clear.
    """
    if finding.kind not in CUT_TO_THE_WINDOW or finding.end < window_end:
        return finding.end
    systems = frozenset(finding.systems)
    end = finding.start + LOOK_AHEAD
    if settings.CLEARWAY_TIMELINE:
        # Walked forward from the finding, a week and then longer per read,
        # stopping once the refusal holding it ends before what was read.
        holding = None
        for refused, frontier in timeline.blocked(
            where=systems,
            impact=impact,
            thresholds=conflicts.thresholds(),
            start=finding.start,
            end=end,
            at_least=Severity.REFUSE,
            only=frozenset({finding.kind}),
        ):
            holding = next(((lo, hi) for lo, hi in refused if lo <= finding.start < hi), None)
            if holding is not None and holding[1] < frontier:
                break
        return holding[1] if holding else finding.end
    windows = [
        w
        for w in conflicts.busy_windows(systems=systems, start=finding.start, end=end)
        if w.kind == finding.kind
    ]
    refused = engine.blocked_intervals(
        windows=windows,
        systems=systems,
        impact=impact,
        thresholds=conflicts.thresholds(),
        start=finding.start,
        end=end,
        at_least=Severity.REFUSE,
    )
    return next((hi for lo, hi in refused if lo <= finding.start < hi), finding.end)


@dataclass(frozen=True)
class JobSnapshot:
    """What the gate needs of a job, cached per calendar version.

    Every change that matters to the gate (status, windows, systems, impact)
    records a calendar change, so a snapshot is never read after one. The
    gate then touches no job table on its hot path: it keeps answering while
    those tables are locked.
    """

    pk: int
    team_id: int
    status: str
    impact: str
    emergency: bool
    review_round: int
    findings: tuple
    systems: tuple[str, ...]
    windows: tuple[tuple[datetime, datetime], ...]
    change_type: str = ChangeType.NORMAL


def job_snapshot(*, job_id: int, version: tuple | None = None) -> JobSnapshot | None:
    version = version or cache_version()
    return window_cache.jobs.get_or_compute((version, job_id), lambda: _load(job_id))


def _load(job_id: int) -> JobSnapshot | None:
    job = MaintenanceJob.objects.filter(pk=job_id).first()
    if job is None:
        return None
    return JobSnapshot(
        pk=job.pk,
        team_id=job.team_id,
        status=job.status,
        impact=job.impact,
        emergency=job.emergency,
        review_round=job.review_round,
        findings=tuple(job.findings),
        systems=tuple(job.systems.order_by("slug").values_list("slug", flat=True)),
        windows=tuple(job.occurrences.order_by("start").values_list("start", "end")),
        change_type=job.change_type,
    )


def job_at(
    *, job_id: int, at: datetime, version: tuple
) -> tuple[JobSnapshot | None, GateRows | None]:
    """The job the gate asks about (None: there is none), and, where the per-process
    caches are off on PostgreSQL, what its answer at `at` reads, in the same round trip.

    That snapshot holds only the windows the gate looks at: the one holding
    `at` and the next.
    """
    if not round_trip.applies():
        return job_snapshot(job_id=job_id, version=version), None
    probes = tuple(getattr(note, "probe", "SELECT 1") for note in _notes())
    read = round_trip.gate_rows(job_id=job_id, at=at, probes=probes)
    if read is None:
        return None, None
    return JobSnapshot(**read.job), read


def gate(
    *, job: JobSnapshot, at: datetime, version: tuple | None = None, read: GateRows | None = None
) -> GateAnswer:
    """Allowed only if the job is approved, not refused now, and `at` is inside a window.

    `read` is what job_at read with the job for `at`.
    """
    current = next(((s, e) for s, e in job.windows if s <= at < e), None)
    upcoming = next(((s, e) for s, e in job.windows if s > at), None)
    reasons = _status_reasons(job)
    if current is None:
        reasons.append(_outside_window(job, at=at, upcoming=upcoming))
    findings: list[Finding] = []
    checked = current or upcoming
    if checked is not None and job.status not in (JobStatus.CANCELLED, JobStatus.DONE):
        findings = conflicts.evaluate(
            systems=job.systems,
            start=checked[0],
            end=checked[1],
            impact=job.impact,
            exclude_job=job.pk,
            version=version,
            known=(read.impacted, read.windows) if read else None,
        ).findings
        reasons += _refusals(
            job, findings=findings, window_end=checked[1], at=at, inside=current is not None
        )
    if reasons:
        # What else explains a closed gate (an overrunning run, ...): apps
        # built on scheduling add it through settings, never imported here.
        # Only for a closed gate: the open answer is the hot path. A note
        # whose probe found nothing in the round trip is not asked.
        asked = read.notes if read else _probed(job_id=job.pk)
        for note, wanted in zip(_notes(), asked, strict=True):
            if wanted:
                reasons.extend(note(job_id=job.pk, at=at))
    return GateAnswer(
        allowed=not reasons,
        job=job,
        at=at,
        window=current,
        next_window=upcoming if current is None or reasons else None,
        reasons=reasons,
        findings=findings,
    )


def gate_note(*, probe: str):
    """Mark a gate note (CLEARWAY_GATE_NOTES) with SQL that selects a row when the note
    has something to say about job `%s`: the gate asks it with its own read, in the
    same round trip, and calls the note only then."""

    def mark(note):
        note.probe = probe
        return note

    return mark


def _probed(*, job_id: int) -> tuple[bool, ...]:
    """Which gate notes have something to say about the job, when its read did not
    carry their probes (the per-process caches on): one prepared statement on
    PostgreSQL instead of each note's own ORM read; on SQLite every note is asked."""
    notes = _notes()
    if not notes or connection.vendor != "postgresql":
        return (True,) * len(notes)
    probes = [getattr(note, "probe", "SELECT 1") for note in notes]
    params = [job_id] * sum(probe.count("%s") for probe in probes)
    row = db.read_prepared("SELECT " + ", ".join(f"EXISTS ({p})" for p in probes), params)
    return tuple(row) if row is not None else (True,) * len(notes)


def _notes() -> tuple:
    return _gate_notes(tuple(getattr(settings, "CLEARWAY_GATE_NOTES", ())))


@cache
def _gate_notes(paths: tuple[str, ...]) -> tuple:
    return tuple(import_string(path) for path in paths)


def _status_reasons(job: JobSnapshot) -> list[Reason]:
    """Why the job's status keeps the gate closed (nothing when it is approved)."""
    if job.status == JobStatus.CONFLICTED:
        first = job.findings[0]["message"] if job.findings else "a calendar change"
        return [Reason("conflicted", f"Job #{job.pk} is conflicted: {first}")]
    if job.status == JobStatus.APPROVED:
        return []
    # Read here, not prefetched by the view: only a job waiting for review
    # needs them, and the approved job's gate is the hot path.
    waiting = (
        ", ".join(
            ReviewRequest.objects.filter(
                job_id=job.pk, round=job.review_round, status=ReviewStatus.PENDING
            )
            .order_by("team__slug")
            .values_list("team__slug", flat=True)
        )
        or "nobody"
    )
    message = _NOT_APPROVED[JobStatus(job.status)].format(id=job.pk, waiting=waiting)
    return [Reason("not_approved", message)]


def _outside_window(
    job: JobSnapshot, *, at: datetime, upcoming: tuple[datetime, datetime] | None
) -> Reason:
    message = (
        f"{at:%Y-%m-%d %H:%M} UTC is outside job #{job.pk}'s booked windows; the next "
        f"starts {upcoming[0]:%Y-%m-%d %H:%M} UTC."
        if upcoming
        else f"Every booked window of job #{job.pk} has ended."
    )
    return Reason("outside_window", message, until=upcoming[0] if upcoming else None)


def _refusals(
    job: JobSnapshot,
    *,
    findings: list[Finding],
    window_end: datetime,
    at: datetime,
    inside: bool,
) -> list[Reason]:
    """A reason for each finding that refuses the job's window, with when it ends."""
    reasons = []
    for finding in findings:
        if finding.severity != Severity.REFUSE:
            continue
        # A freeze pauses the job only while it lasts: inside the window,
        # the gate is closed for the frozen stretch and open around it.
        if finding.kind == FindingKind.FREEZE and inside and not finding.start <= at < finding.end:
            continue
        # An approved emergency was reviewed as an override of what refused
        # it; only a freeze still stops it.
        if job.emergency and finding.kind != FindingKind.FREEZE:
            continue
        until = _refused_until(finding=finding, impact=job.impact, window_end=window_end)
        reasons.append(finding_reason(finding, until=until))
    return reasons


def no_slot_reason(
    *, systems: list[str], duration: timedelta, after: datetime, before: datetime, impact: str
) -> str:
    """One sentence saying why there is no clear window."""
    if before - after < duration:
        return (
            f"No window of {_human(duration)} fits between {after:%Y-%m-%d %H:%M} and "
            f"{before:%Y-%m-%d %H:%M} UTC: the range is shorter than that."
        )
    impacted = conflicts.impacted(systems)
    found = conflicts.kinds_present(systems=impacted, start=after, end=before)
    if FindingKind.FREEZE in found:
        return "A change freeze is on: no window is clear until it is lifted."
    kinds = sorted(kind.replace("_", " ") for kind in found)
    # Only deadline traffic depends on the impact, and degraded work is flagged
    # by it as heavy work is: only work of impact none passes it.
    advice = "Try a shorter job or a later range."
    if FindingKind.DEADLINE in found and impact != Impact.NONE:
        advice = "Try a shorter job, a later range, or impact 'none' for work users do not notice."
    return (
        f"No clear window of {_human(duration)} on {', '.join(sorted(impacted))} between "
        f"{after:%Y-%m-%d %H:%M} and {before:%Y-%m-%d %H:%M} UTC: "
        f"{', '.join(kinds) or 'busy windows'} cover every gap that long. {advice}"
    )


def _human(duration: timedelta) -> str:
    hours = duration.total_seconds() / 3600
    return f"{hours:g} hour{'s' if hours != 1 else ''}"


def slots(
    *,
    systems: list[str],
    duration: timedelta,
    impact: str,
    after: datetime,
    before: datetime | None,
    limit: int,
    exclude_job: int | None = None,
    backwards: bool = False,
) -> list[Slot]:
    before = before or after + timedelta(days=settings.CLEARWAY_HORIZON_DAYS)
    return conflicts.next_clear(
        systems=systems,
        duration=duration,
        impact=impact,
        after=after,
        before=before,
        limit=limit,
        exclude_job=exclude_job,
        backwards=backwards,
    )

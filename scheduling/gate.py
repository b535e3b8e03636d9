"""Answers for CI: may this job run now (gate), is a system open for change (state),
and when is it clear (slots). Reads only; each answer is computed at call time
against the current calendars."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from scheduling import conflicts, engine, window_cache
from scheduling.choices import ChangeType, Decision, FindingKind, JobStatus, ReviewStatus, Severity
from scheduling.engine import Finding, Slot
from scheduling.links import site_link
from scheduling.models import MaintenanceJob, ReviewRequest
from scheduling.selectors import cache_version
from scheduling.timeline import selectors as timeline

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


# The longest the gate waits for a table lock (a migration, a LOCK TABLE) before
# it fails closed: a cached snapshot answers without the jobs table, a cold one
# must not hold a worker for the whole DB_LOCK_TIMEOUT_MS while CI keeps polling.
LOCK_WAIT_MS = 200
# How far ahead an answer looks for the end of what refuses change.
LOOK_AHEAD = timedelta(days=31)
# The engine cuts these findings to the window it was asked about; the rest
# carry the real end of their blackout, freeze or job.
_CUT_TO_THE_WINDOW = frozenset({FindingKind.DEADLINE, FindingKind.OUTSIDE_WINDOW})


def _finding_reason(finding: Finding, *, until: datetime | None = None) -> Reason:
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
    if finding.kind not in _CUT_TO_THE_WINDOW or finding.end < window_end:
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


def gate(*, job: JobSnapshot, at: datetime, version: tuple | None = None) -> GateAnswer:
    """Allowed only if the job is approved, not refused now, and `at` is inside a window."""
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
        ).findings
        reasons += _refusals(
            job, findings=findings, window_end=checked[1], at=at, inside=current is not None
        )
    if reasons:
        # What else explains a closed gate (an overrunning run, ...): apps
        # built on scheduling add it through settings, never imported here.
        # Only for a closed gate: the open answer is the hot path.
        for note in _gate_notes(tuple(getattr(settings, "CLEARWAY_GATE_NOTES", ()))):
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
        reasons.append(_finding_reason(finding, until=until))
    return reasons


@dataclass
class StateAnswer:
    """`open` is false only when change is refused; `flagged` when open but it needs review."""

    open: bool
    at: datetime
    next_transition: datetime | None
    reasons: list[Reason]
    flagged: bool = False

    @property
    def state(self) -> str:
        return "closed" if not self.open else "flagged" if self.flagged else "open"


def state(
    *,
    systems: list[str],
    at: datetime,
    impact: str,
    look_ahead: timedelta | None = None,
    version: tuple | None = None,
) -> StateAnswer:
    """Open or closed for ad-hoc change on `systems` (dependents included) at `at`.

    The closed stretches are worked out from the start of `at`'s hour and
    cached per calendar version, so polling CI asks the database one question.
    """
    look_ahead = look_ahead or LOOK_AHEAD
    version = version or cache_version()
    impacted = conflicts.impacted(systems, version=version)
    origin = at.replace(minute=0, second=0, microsecond=0)
    end = origin + look_ahead + timedelta(hours=1)

    holding, upcoming = window_cache.answers.get_or_compute(
        ("state", version, impacted, impact, origin, look_ahead, at),
        lambda: conflicts.refused_stretch(
            systems=impacted, impact=impact, at=at, start=origin, end=end
        ),
    )
    if holding is None:
        return window_cache.answers.get_or_compute(
            ("open", version, impacted, impact, origin, look_ahead, at),
            lambda: _open_or_flagged(
                at=at,
                origin=origin,
                until=upcoming or end,
                upcoming=upcoming,
                impacted=impacted,
                impact=impact,
                version=version,
            ),
        )
    return _closed(holding, at=at, end=end, impacted=impacted, impact=impact, version=version)


def _closed(
    holding: tuple[datetime, datetime],
    *,
    at: datetime,
    end: datetime,
    impacted: frozenset[str],
    impact: str,
    version: tuple,
) -> StateAnswer:
    """The answer inside a refused stretch: what refuses at `at`, and until when."""
    # Folded over the whole closed stretch, not only the instant `at`: the
    # engine cuts traffic findings to the range it is given, and each reason
    # must say when it ends. Only what refuses at `at` itself is a reason.
    holding_now = window_cache.answers.get_or_compute(
        ("holding", version, impacted, impact, holding),
        lambda: engine.fold(
            windows=conflicts.busy_windows(
                systems=impacted, start=holding[0], end=holding[1], version=version
            ),
            systems=impacted,
            start=holding[0],
            end=holding[1],
            impact=impact,
            thresholds=conflicts.thresholds(),
        ),
    )
    reasons = [
        _finding_reason(f)
        for f in holding_now
        if f.severity == Decision.REFUSE and f.start <= at < f.end
    ]
    until = None if holding[1] >= end or holding[1] >= engine.FAR_FUTURE else holding[1]
    return StateAnswer(open=False, at=at, next_transition=until, reasons=reasons)


def _open_or_flagged(
    *,
    at: datetime,
    origin: datetime,
    until: datetime,
    upcoming: datetime | None,
    impacted: frozenset[str],
    impact: str,
    version: tuple,
) -> StateAnswer:
    """Open, or open with the reasons change there needs review (a flag blackout, traffic).

    Read only up to the next refusal (`until`): what flags after it is not
    the next transition.
    """
    if settings.CLEARWAY_TIMELINE:
        flagged = _flagged_walk(at=at, origin=origin, until=until, impacted=impacted, impact=impact)
        # Only the instant's findings are reasons: the windows at `at` are enough.
        windows = conflicts.busy_windows(
            systems=impacted, start=at, end=at + timedelta(microseconds=1), version=version
        )
    else:
        windows = conflicts.busy_windows(systems=impacted, start=origin, end=until, version=version)
        flagged = engine.blocked_intervals(
            windows=windows,
            systems=impacted,
            impact=impact,
            thresholds=conflicts.thresholds(),
            start=origin,
            end=until,
            at_least=Severity.FLAG,
        )
    stretch = next(((lo, hi) for lo, hi in flagged if lo <= at < hi), None)
    if stretch is None:
        upcoming_flag = next((lo for lo, _ in flagged if lo > at), None)
        nearest = min((t for t in (upcoming, upcoming_flag) if t), default=None)
        return StateAnswer(open=True, at=at, next_transition=nearest, reasons=[])
    # Folded at the instant itself: traffic findings take the peak of the range
    # they are folded over, and only what flags `at` is a reason.
    findings = engine.fold(
        windows=windows,
        systems=impacted,
        start=at,
        end=at + timedelta(microseconds=1),
        impact=impact,
        thresholds=conflicts.thresholds(),
    )
    # The flagged stretch ends where a refusal begins, or where it is clear again.
    ends = stretch[1] if stretch[1] < engine.FAR_FUTURE else None
    reasons = [
        _finding_reason(f, until=stretch[1] if f.kind in _CUT_TO_THE_WINDOW else f.end)
        for f in findings
        if f.severity == Severity.FLAG
    ]
    nearest = min((t for t in (upcoming, ends) if t), default=None)
    return StateAnswer(open=True, flagged=True, at=at, next_transition=nearest, reasons=reasons)


def _flagged_walk(
    *, at: datetime, origin: datetime, until: datetime, impacted: frozenset[str], impact: str
) -> list[tuple[datetime, datetime]]:
    """The flagging stretches from `origin`, read forward from the stored rows only as far
    as the answer needs: the end of the one holding `at`, or the start of the next."""
    flagged: list[tuple[datetime, datetime]] = []
    for flagged, frontier in timeline.blocked(
        where=impacted,
        impact=impact,
        thresholds=conflicts.thresholds(),
        start=origin,
        end=until,
        at_least=Severity.FLAG,
    ):
        holding = next(((lo, hi) for lo, hi in flagged if lo <= at < hi), None)
        upcoming = next((lo for lo, _ in flagged if lo > at), None)
        if (holding and holding[1] < frontier) or (not holding and upcoming):
            break
    return flagged


def no_slot_reason(
    *, systems: list[str], duration: timedelta, after: datetime, before: datetime, impact: str
) -> str:
    """One sentence saying why there is no clear window."""
    impacted = conflicts.impacted(systems)
    found = conflicts.kinds_present(systems=impacted, start=after, end=before)
    if FindingKind.FREEZE in found:
        return "A change freeze is on: no window is clear until it is lifted."
    kinds = sorted(kind.replace("_", " ") for kind in found)
    return (
        f"No clear window of {_human(duration)} on {', '.join(sorted(impacted))} between "
        f"{after:%Y-%m-%d %H:%M} and {before:%Y-%m-%d %H:%M} UTC: "
        f"{', '.join(kinds) or 'busy windows'} cover every gap that long. "
        "Try a shorter job, a later range or impact 'degraded'."
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

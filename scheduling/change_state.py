"""Is change open on some systems (no booking needed): the state answer for CI.

Reads only. With the per-process caches off on PostgreSQL, the names asked
about, their reach and the first stretch of each walk come in one round trip
(scheduling.timeline.round_trip); elsewhere through the selectors, with the
same answers.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings

from scheduling import conflicts, engine, window_cache
from scheduling.choices import Decision, Severity
from scheduling.gate import CUT_TO_THE_WINDOW, LOOK_AHEAD, Reason, finding_reason
from scheduling.selectors import cache_version, refuse_unknown, system_list
from scheduling.timeline import round_trip
from scheduling.timeline import selectors as timeline
from scheduling.timeline.round_trip import StateRows


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
    check_names: bool = False,
) -> StateAnswer:
    """Open or closed for ad-hoc change on `systems` (dependents included) at `at`.

    The closed stretches are worked out from the start of `at`'s hour and
    cached per calendar version, so polling CI asks the database one question.
    With `check_names` an unknown system is refused (InvalidInput), checked
    with the answer's first reads.
    """
    look_ahead = look_ahead or LOOK_AHEAD
    version = version or cache_version()
    origin = at.replace(minute=0, second=0, microsecond=0)
    end = origin + look_ahead + timedelta(hours=1)
    ahead = None
    if round_trip.state_applies():
        ahead = round_trip.state_rows(
            systems=systems, at=at, origin=origin, impact=impact, thresholds=conflicts.thresholds()
        )
        if check_names:
            refuse_unknown(sorted(set(systems) - ahead.known))
        impacted = ahead.impacted
    else:
        if check_names:
            system_list(raw=systems, version=version)
        impacted = conflicts.impacted(systems, version=version)

    holding, upcoming = window_cache.answers.get_or_compute(
        ("state", version, impacted, impact, origin, look_ahead, at),
        lambda: conflicts.refused_stretch(
            systems=impacted,
            impact=impact,
            at=at,
            start=origin,
            end=end,
            first=ahead.refusing if ahead else None,
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
                ahead=ahead,
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
        finding_reason(f)
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
    ahead: StateRows | None = None,
) -> StateAnswer:
    """Open, or open with the reasons change there needs review (a flag blackout, traffic).

    Read only up to the next refusal (`until`): what flags after it is not
    the next transition.
    """
    flagged, windows = _flagging(
        at=at,
        origin=origin,
        until=until,
        impacted=impacted,
        impact=impact,
        version=version,
        ahead=ahead,
    )
    stretch = next(((lo, hi) for lo, hi in flagged if lo <= at < hi), None)
    if stretch is None:
        upcoming_flag = next((lo for lo, _ in flagged if lo > at), None)
        nearest = min((t for t in (upcoming, upcoming_flag) if t), default=None)
        return StateAnswer(open=True, at=at, next_transition=nearest, reasons=[])
    if windows is None:
        # Only the instant's findings are reasons: the windows at `at` are enough.
        windows = conflicts.busy_windows(
            systems=impacted, start=at, end=at + timedelta(microseconds=1), version=version
        )
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
        finding_reason(f, until=stretch[1] if f.kind in CUT_TO_THE_WINDOW else f.end)
        for f in findings
        if f.severity == Severity.FLAG
    ]
    nearest = min((t for t in (upcoming, ends) if t), default=None)
    return StateAnswer(open=True, flagged=True, at=at, next_transition=nearest, reasons=reasons)


def _flagging(
    *,
    at: datetime,
    origin: datetime,
    until: datetime,
    impacted: frozenset[str],
    impact: str,
    version: tuple,
    ahead: StateRows | None,
) -> tuple[list[tuple[datetime, datetime]], list | None]:
    """The flagging stretches in [origin, until), and the busy windows at `at` when
    they were read with them (None: not read yet)."""
    if settings.CLEARWAY_TIMELINE:
        flagged = _flagged_walk(
            at=at,
            origin=origin,
            until=until,
            impacted=impacted,
            impact=impact,
            first=ahead.flagging if ahead else None,
        )
        return flagged, ahead.instant if ahead else None
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
    return flagged, windows


def _flagged_walk(
    *,
    at: datetime,
    origin: datetime,
    until: datetime,
    impacted: frozenset[str],
    impact: str,
    first: list | None = None,
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
        first=first,
    ):
        holding = next(((lo, hi) for lo, hi in flagged if lo <= at < hi), None)
        upcoming = next((lo for lo, _ in flagged if lo > at), None)
        if (holding and holding[1] < frontier) or (not holding and upcoming):
            break
    return flagged

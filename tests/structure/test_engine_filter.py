"""`fold` (findings) and `blocked_intervals` (slots, state) pick windows with one
filter: a window counts when it overlaps the range and touches the systems."""

from scheduling import engine
from scheduling.choices import FindingKind, Impact, Severity
from tests.builders import at

THRESHOLDS = engine.Thresholds(flag=200, refuse=1000)
DB = frozenset({"grading-db"})


def window(start, end, *, systems=frozenset(), kind=FindingKind.BLACKOUT, **extra):
    return engine.BusyWindow(
        kind=kind,
        start=start,
        end=end,
        systems=frozenset(systems),
        title="w",
        source=f"w:{start:%d%H}",
        severity=extra.pop("severity", Severity.REFUSE),
        **extra,
    )


def both(windows, start, end, impact=Impact.EXCLUSIVE_LOCK):
    findings = engine.fold(
        windows=windows, systems=DB, start=start, end=end, impact=impact, thresholds=THRESHOLDS
    )
    blocked = engine.blocked_intervals(
        windows=windows, systems=DB, impact=impact, thresholds=THRESHOLDS, start=start, end=end
    )
    return findings, blocked


def test_a_window_on_another_system_counts_for_neither():
    findings, blocked = both([window(at(2), at(3), systems={"reports"})], at(1), at(5))

    assert (findings, blocked) == ([], [])


def test_a_window_that_only_touches_the_range_counts_for_neither():
    findings, blocked = both([window(at(5), at(6))], at(1), at(5))

    assert (findings, blocked) == ([], [])


def test_a_window_for_every_system_counts_for_both_over_the_same_span():
    findings, blocked = both([window(at(2), at(3))], at(1), at(5))

    assert [(f.start, f.end) for f in findings] == blocked == [(at(2), at(3))]


def test_light_work_beside_light_work_is_flagged_and_blocks_a_slot():
    other_job = window(
        at(2), at(3), kind=FindingKind.MAINTENANCE, severity=None, impact=Impact.DEGRADED
    )

    findings, blocked = both([other_job], at(1), at(5), impact=Impact.DEGRADED)

    assert [f.severity for f in findings] == [Severity.FLAG]
    assert blocked == [(at(2), at(3))]

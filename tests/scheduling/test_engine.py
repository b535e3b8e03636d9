"""The pure conflict engine: busy windows in, findings, decisions and slots out. No database."""

from datetime import UTC, datetime, timedelta

import pytest

from scheduling.engine import (
    FAR_FUTURE,
    BusyWindow,
    Finding,
    Thresholds,
    clear_slots,
    decide,
    fold,
    fold_occurrences,
)

THRESHOLDS = Thresholds(flag=200, refuse=1000)
API = frozenset({"grading-api"})


def at(day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2030, 12, day, hour, minute, tzinfo=UTC)


def blackout(start, end, *, severity="refuse", systems=(), **kwargs) -> BusyWindow:
    kwargs.setdefault("source", "blackout:1")
    return BusyWindow(
        kind="blackout",
        start=start,
        end=end,
        systems=frozenset(systems),
        title=kwargs.pop("title", "Exam week"),
        severity=severity,
        **kwargs,
    )


def traffic(start, end, *, load, systems=("grading-api",), source="deadline:1", title="Project 3"):
    return BusyWindow(
        kind="deadline",
        start=start,
        end=end,
        systems=frozenset(systems),
        title=title,
        message=f"'{title}' is due",
        source=source,
        team="curriculum",
        load=load,
    )


def other_job(start, end, *, impact, systems=("grading-api",)) -> BusyWindow:
    return BusyWindow(
        kind="maintenance",
        start=start,
        end=end,
        systems=frozenset(systems),
        title="Reindex (approved)",
        source="job:7",
        team="infra",
        impact=impact,
    )


def findings_for(windows, *, impact="exclusive_lock", start=None, end=None, systems=API):
    start = start or at(10, 8)
    return fold(
        windows=windows,
        systems=systems,
        start=start,
        end=end or start + timedelta(hours=4),
        impact=impact,
        thresholds=THRESHOLDS,
    )


def finding(severity: str, *, start=None) -> Finding:
    start = start or at(10)
    return Finding(
        kind="blackout",
        severity=severity,
        start=start,
        end=start + timedelta(hours=1),
        systems=("grading-api",),
        title="x",
        message="x",
    )


# --- blackouts -------------------------------------------------------------


def test_refusing_blackout_over_the_work_refuses_it():
    found = findings_for([blackout(at(10), at(11))])

    assert [(f.kind, f.severity) for f in found] == [("blackout", "refuse")]


def test_flagging_blackout_over_the_work_only_flags_it():
    found = findings_for([blackout(at(10), at(11), severity="flag")])

    assert [(f.kind, f.severity) for f in found] == [("blackout", "flag")]


def test_blackout_on_another_system_is_ignored():
    assert findings_for([blackout(at(10), at(11), systems=["lms-web"])]) == []


def test_blackout_without_systems_applies_to_every_system():
    found = findings_for([blackout(at(10), at(11))], systems=frozenset({"lms-web", "auth"}))

    assert found[0].systems == ("auth", "lms-web")


def test_finding_names_its_source_window_touched_systems_and_owner():
    window = blackout(
        at(10),
        at(11),
        systems=["grading-api", "lms-web"],
        message="Blackout 'Exam week' (Platform).",
        url="/blackouts/1/",
        team="platform",
    )

    [found] = findings_for([window], systems=frozenset({"grading-api", "grading-db"}))

    assert (found.start, found.end) == (at(10), at(11))
    assert found.systems == ("grading-api",)
    assert found.sources == ("blackout:1",)
    assert found.teams == ("platform",)
    assert found.message == "Blackout 'Exam week' (Platform)."
    assert found.url == "/blackouts/1/"


# --- deadline traffic --------------------------------------------------------


def test_traffic_at_the_refuse_threshold_refuses_exclusive_lock_work():
    found = findings_for([traffic(at(9), at(12), load=1000)], impact="exclusive_lock")

    assert [(f.kind, f.severity) for f in found] == [("deadline", "refuse")]


def test_traffic_at_the_refuse_threshold_refuses_downtime_work():
    found = findings_for([traffic(at(9), at(12), load=1000)], impact="downtime")

    assert decide(found) == "refuse"


def test_traffic_just_under_the_refuse_threshold_only_flags_heavy_work():
    found = findings_for([traffic(at(9), at(12), load=999)], impact="exclusive_lock")

    assert [(f.kind, f.severity) for f in found] == [("deadline", "flag")]


def test_traffic_at_the_flag_threshold_flags_heavy_work():
    found = findings_for([traffic(at(9), at(12), load=200)], impact="downtime")

    assert decide(found) == "flag"


def test_traffic_under_the_flag_threshold_is_clear():
    assert findings_for([traffic(at(9), at(12), load=199)], impact="exclusive_lock") == []


def test_degraded_work_is_at_most_flagged_by_heavy_traffic():
    found = findings_for([traffic(at(9), at(12), load=5000)], impact="degraded")

    assert [(f.kind, f.severity) for f in found] == [("deadline", "flag")]


def test_work_without_impact_ignores_traffic():
    assert findings_for([traffic(at(9), at(12), load=5000)], impact="none") == []


def test_traffic_finding_message_counts_students_and_names_the_deadline():
    [found] = findings_for([traffic(at(9), at(12), load=2000)])

    assert "2,000 students" in found.message
    assert "'Project 3' is due" in found.message
    assert found.teams == ("curriculum",)
    assert found.sources == ("deadline:1",)


def test_traffic_on_a_system_outside_the_work_is_ignored():
    windows = [traffic(at(9), at(12), load=5000, systems=["lms-web"])]

    assert findings_for(windows) == []


def test_traffic_finding_covers_only_the_part_of_the_work_under_the_peak():
    windows = [traffic(at(10, 10), at(12), load=2000)]

    [found] = findings_for(windows, start=at(10, 8), end=at(10, 12))

    assert (found.start, found.end) == (at(10, 10), at(10, 12))


# --- summing overlapping deadlines --------------------------------------------


def two_overlapping_600s():
    """A: 600 students over [10 00:00, 11 00:00); B: 600 over [10 12:00, 11 12:00)."""
    return [
        traffic(at(10), at(11), load=600, source="deadline:1", title="Essay"),
        traffic(at(10, 12), at(11, 12), load=600, source="deadline:2", title="Lab"),
    ]


def test_two_600_student_deadlines_refuse_heavy_work_where_they_overlap():
    found = findings_for(two_overlapping_600s(), start=at(10, 14), end=at(10, 18))

    assert [f.severity for f in found] == ["refuse"]
    assert "1,200 students" in found[0].message
    assert set(found[0].sources) == {"deadline:1", "deadline:2"}


def test_work_under_only_one_of_two_overlapping_600_deadlines_is_flagged():
    found = findings_for(two_overlapping_600s(), start=at(10, 4), end=at(10, 8))

    assert [f.severity for f in found] == ["flag"]
    assert found[0].sources == ("deadline:1",)


def test_refusal_from_summed_traffic_covers_only_the_overlap():
    found = findings_for(two_overlapping_600s(), start=at(10, 8), end=at(10, 16))

    refusals = [(f.start, f.end) for f in found if f.severity == "refuse"]
    flags = [(f.start, f.end) for f in found if f.severity == "flag"]
    assert refusals == [(at(10, 12), at(10, 16))]
    assert flags == [(at(10, 8), at(10, 12))]


def test_deadlines_on_different_systems_do_not_add_up():
    windows = [
        traffic(at(10), at(11), load=600, systems=["grading-api"], source="deadline:1"),
        traffic(at(10), at(11), load=600, systems=["submissions-web"], source="deadline:2"),
    ]

    found = findings_for(windows, systems=frozenset({"grading-api", "submissions-web"}))

    assert decide(found) == "flag"


def test_deadlines_touching_end_to_start_do_not_add_up():
    windows = [
        traffic(at(10), at(10, 10), load=600, source="deadline:1"),
        traffic(at(10, 10), at(11), load=600, source="deadline:2"),
    ]

    found = findings_for(windows, start=at(10, 8), end=at(10, 12))

    assert decide(found) == "flag"


def test_summed_finding_names_the_biggest_deadline_and_counts_the_others():
    windows = [
        traffic(at(10), at(11), load=300, source="deadline:1", title="Essay"),
        traffic(at(10), at(11), load=900, source="deadline:2", title="Project 3"),
    ]

    [found] = findings_for(windows)

    assert found.title == "Project 3"
    assert "'Project 3' is due; its high-traffic window runs from" in found.message
    assert "(with 1 more deadline)." in found.message


def test_a_deadline_finding_states_the_deadlines_traffic_window_not_the_overlap():
    windows = [traffic(at(10), at(12), load=2000, title="Project 3")]

    [found] = findings_for(windows, start=at(11, 8), end=at(11, 12))

    assert "runs from 2030-12-10 00:00 UTC to 2030-12-12 00:00 UTC" in found.message
    assert "2030-12-11 08:00" not in found.message


# --- overlapping maintenance --------------------------------------------------


@pytest.mark.parametrize(
    ("impact", "other_impact", "severity"),
    [
        ("exclusive_lock", "none", "refuse"),
        ("downtime", "degraded", "refuse"),
        ("none", "exclusive_lock", "refuse"),
        ("degraded", "downtime", "refuse"),
        ("degraded", "degraded", "flag"),
        ("none", "none", "flag"),
        ("degraded", "none", "flag"),
    ],
)
def test_overlapping_maintenance_is_refused_when_either_side_is_heavy(
    impact, other_impact, severity
):
    found = findings_for([other_job(at(10, 9), at(10, 10), impact=other_impact)], impact=impact)

    assert [(f.kind, f.severity) for f in found] == [("maintenance", severity)]


# --- allowed windows and freeze --------------------------------------------------


def test_work_outside_the_allowed_window_is_refused():
    gap = BusyWindow(
        kind="outside_window",
        start=at(10),
        end=at(15),
        systems=API,
        title="Outside grading-api's maintenance window",
        source="system:grading-api",
        severity="refuse",
    )

    found = findings_for([gap])

    assert [(f.kind, f.severity) for f in found] == [("outside_window", "refuse")]


def test_freeze_refuses_work_on_any_system():
    freeze = BusyWindow(
        kind="freeze",
        start=at(1),
        end=FAR_FUTURE,
        systems=frozenset(),
        title="Change freeze",
        source="freeze",
        severity="refuse",
    )

    found = findings_for([freeze], impact="none", systems=frozenset({"lms-web"}))

    assert [(f.kind, f.severity, f.systems) for f in found] == [("freeze", "refuse", ("lms-web",))]


# --- half-open windows ------------------------------------------------------------


def test_window_ending_when_the_work_starts_does_not_collide():
    assert findings_for([blackout(at(10), at(10, 8))], start=at(10, 8)) == []


def test_window_starting_when_the_work_ends_does_not_collide():
    assert findings_for([blackout(at(10, 12), at(11))], start=at(10, 8), end=at(10, 12)) == []


def test_window_overlapping_by_one_minute_collides():
    found = findings_for([blackout(at(10), at(10, 8, 1))], start=at(10, 8))

    assert decide(found) == "refuse"


def test_traffic_ending_when_the_work_starts_does_not_count():
    windows = [traffic(at(9), at(10, 8), load=5000)]

    assert findings_for(windows, start=at(10, 8)) == []


# --- decide -----------------------------------------------------------------------


def test_no_findings_is_clear():
    assert decide([]) == "clear"


def test_decision_is_the_worst_severity():
    assert decide([finding("flag"), finding("refuse"), finding("flag")]) == "refuse"


def test_flags_alone_decide_flag():
    assert decide([finding("flag"), finding("flag")]) == "flag"


# --- recurring work, occurrence by occurrence ----------------------------------------


def weekly(*days: int) -> list[tuple[datetime, datetime]]:
    return [(at(day, 8), at(day, 12)) for day in days]


def test_only_the_colliding_occurrence_has_findings():
    found = fold_occurrences(
        windows=[blackout(at(10), at(11))],
        systems=API,
        occurrences=weekly(3, 10, 17),
        impact="exclusive_lock",
        thresholds=THRESHOLDS,
    )

    assert [f.occurrence for f in found] == [at(10, 8)]
    assert decide(found) == "refuse"


def test_recurring_work_is_decided_by_its_worst_occurrence():
    found = fold_occurrences(
        windows=[blackout(at(3), at(4), severity="flag"), traffic(at(16), at(18), load=1500)],
        systems=API,
        occurrences=weekly(3, 10, 17),
        impact="exclusive_lock",
        thresholds=THRESHOLDS,
    )

    assert [(f.occurrence, f.severity) for f in found] == [
        (at(3, 8), "flag"),
        (at(17, 8), "refuse"),
    ]
    assert decide(found) == "refuse"


def test_window_spanning_two_occurrences_is_reported_for_each():
    found = fold_occurrences(
        windows=[blackout(at(1), at(20))],
        systems=API,
        occurrences=weekly(3, 10, 17),
        impact="none",
        thresholds=THRESHOLDS,
    )

    assert [f.occurrence for f in found] == [at(3, 8), at(10, 8), at(17, 8)]


def test_findings_of_one_off_work_carry_no_occurrence():
    found = fold_occurrences(
        windows=[blackout(at(10), at(11))],
        systems=API,
        occurrences=weekly(10),
        impact="none",
        thresholds=THRESHOLDS,
    )

    assert [f.occurrence for f in found] == [None]


# --- clear slots ----------------------------------------------------------------------


def slots_for(windows, *, duration=timedelta(hours=4), after=None, before=None, limit=5, **kw):
    return clear_slots(
        windows=windows,
        systems=kw.pop("systems", API),
        impact=kw.pop("impact", "exclusive_lock"),
        thresholds=THRESHOLDS,
        duration=duration,
        after=after or at(10),
        before=before or at(20),
        limit=limit,
    )


def test_free_calendar_offers_a_slot_right_away():
    [slot] = slots_for([], limit=1)

    assert (slot.start, slot.end) == (at(10), at(10, 4))


def test_slot_starts_exactly_when_a_blackout_ends():
    [slot] = slots_for([blackout(at(9), at(11, 6))], limit=1)

    assert (slot.start, slot.end) == (at(11, 6), at(11, 10))


def test_slots_are_one_per_gap_earliest_first():
    windows = [blackout(at(10, 4), at(11)), blackout(at(12), at(13))]

    slots = slots_for(windows, limit=3)

    assert [s.start for s in slots] == [at(10), at(11), at(13)]


def test_more_slots_than_gaps_continue_back_to_back_inside_the_gaps():
    windows = [blackout(at(10, 4), at(11)), blackout(at(12), at(13))]

    slots = slots_for(windows, limit=5)

    assert [s.start for s in slots] == [at(10), at(11), at(11, 4), at(11, 8), at(13)]


def test_a_free_calendar_offers_as_many_slots_as_asked():
    assert len(slots_for([], limit=5)) == 5


def test_gap_shorter_than_the_duration_is_skipped():
    windows = [blackout(at(10, 3), at(11)), blackout(at(11, 3), at(12))]

    slots = slots_for(windows, limit=1)

    assert slots[0].start == at(12)


def test_slots_stop_at_the_limit():
    windows = [blackout(at(day, 6), at(day + 1)) for day in range(10, 19)]

    assert len(slots_for(windows, limit=3)) == 3


def test_slot_never_runs_past_before():
    assert slots_for([blackout(at(10), at(19, 22))], before=at(20)) == []


def test_slots_avoid_traffic_peaks():
    [slot] = slots_for([traffic(at(9), at(12), load=2000)], limit=1)

    assert slot.start == at(12)


def test_slots_ignore_traffic_under_the_flag_threshold():
    [slot] = slots_for([traffic(at(9), at(12), load=150)], limit=1)

    assert slot.start == at(10)


def test_slots_for_work_without_impact_ignore_traffic():
    [slot] = slots_for([traffic(at(9), at(12), load=5000)], impact="none", limit=1)

    assert slot.start == at(10)


def test_slots_avoid_flagging_windows_too():
    [slot] = slots_for([blackout(at(9), at(12), severity="flag")], limit=1)

    assert slot.start == at(12)


def test_aligned_slots_start_on_the_next_quarter_hour():
    windows = [blackout(at(10), at(10, 5, 59))]

    [slot] = clear_slots(
        windows=windows,
        systems=API,
        impact="exclusive_lock",
        thresholds=THRESHOLDS,
        duration=timedelta(hours=4),
        after=at(10),
        before=at(20),
        limit=1,
        align=timedelta(minutes=15),
    )

    assert (slot.start, slot.end) == (at(10, 6), at(10, 10))

"""Properties of the pure engine, checked on generated calendars (hypothesis)."""

import itertools
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from scheduling.engine import BusyWindow, Thresholds, clear_slots, decide, fold, worse

THRESHOLDS = Thresholds(flag=200, refuse=1000)
ORIGIN = datetime(2030, 12, 1, tzinfo=UTC)
STEP = timedelta(minutes=30)
HORIZON_STEPS = 14 * 48  # two weeks of half hours
SYSTEMS = ("grading-db", "grading-api", "lms-web")
IMPACTS = ("exclusive_lock", "downtime", "degraded", "none")

fast = hypothesis_settings(max_examples=100, deadline=None)

systems = st.frozensets(st.sampled_from(SYSTEMS), max_size=len(SYSTEMS))
booked_systems = st.frozensets(st.sampled_from(SYSTEMS), min_size=1, max_size=len(SYSTEMS))


@st.composite
def spans(draw, max_length=4 * 48):
    start = draw(st.integers(0, HORIZON_STEPS))
    length = draw(st.integers(1, max_length))
    return ORIGIN + start * STEP, ORIGIN + (start + length) * STEP


@st.composite
def windows(draw):
    start, end = draw(spans())
    kind = draw(st.sampled_from(["blackout", "deadline", "maintenance", "outside_window"]))
    common = {
        "kind": kind,
        "start": start,
        "end": end,
        "systems": draw(systems),
        "title": kind,
        "source": f"{kind}:{draw(st.integers(1, 10_000))}",
    }
    if kind == "deadline":
        return BusyWindow(**common, load=draw(st.integers(1, 1500)))
    if kind == "maintenance":
        return BusyWindow(**common, impact=draw(st.sampled_from(IMPACTS)))
    return BusyWindow(**common, severity=draw(st.sampled_from(["flag", "refuse"])))


@st.composite
def work(draw):
    start, end = draw(spans(max_length=24))
    return {
        "systems": draw(booked_systems),
        "start": start,
        "end": end,
        "impact": draw(st.sampled_from(IMPACTS)),
    }


def decision(calendar, job) -> str:
    return decide(fold(windows=calendar, thresholds=THRESHOLDS, **job))


@fast
@given(calendar=st.lists(windows(), max_size=12), extra=windows(), job=work())
def test_adding_a_window_never_improves_the_decision(calendar, extra, job):
    before = decision(calendar, job)
    after = decision([*calendar, extra], job)

    assert not worse(before, after)


@fast
@given(
    calendar=st.lists(windows(), max_size=12),
    job=work(),
    hours=st.integers(1, 12),
    limit=st.integers(1, 6),
)
def test_clear_slots_have_no_findings_and_come_ordered_with_the_asked_length(
    calendar, job, hours, limit
):
    duration = timedelta(hours=hours)
    after, before = ORIGIN, ORIGIN + HORIZON_STEPS * STEP

    found = clear_slots(
        windows=calendar,
        systems=job["systems"],
        impact=job["impact"],
        thresholds=THRESHOLDS,
        duration=duration,
        after=after,
        before=before,
        limit=limit,
    )

    assert len(found) <= limit
    for slot in found:
        assert slot.end - slot.start == duration
        assert after <= slot.start and slot.end <= before
        findings = fold(
            windows=calendar,
            systems=job["systems"],
            start=slot.start,
            end=slot.end,
            impact=job["impact"],
            thresholds=THRESHOLDS,
        )
        assert findings == []
    assert all(a.end <= b.start for a, b in itertools.pairwise(found))


@fast
@given(calendar=st.lists(windows(), max_size=12), job=work(), hours=st.integers(1, 12))
def test_first_clear_slot_is_the_earliest_clear_start(calendar, job, hours):
    duration = timedelta(hours=hours)
    after, before = ORIGIN, ORIGIN + HORIZON_STEPS * STEP

    found = clear_slots(
        windows=calendar,
        systems=job["systems"],
        impact=job["impact"],
        thresholds=THRESHOLDS,
        duration=duration,
        after=after,
        before=before,
        limit=1,
    )

    # Every window edge sits on the half-hour grid, so the earliest clear start does too.
    first_clear = next(
        (
            start
            for start in (after + n * STEP for n in range(HORIZON_STEPS + 1))
            if start + duration <= before
            and not fold(
                windows=calendar,
                systems=job["systems"],
                start=start,
                end=start + duration,
                impact=job["impact"],
                thresholds=THRESHOLDS,
            )
        ),
        None,
    )
    assert (found[0].start if found else None) == first_clear

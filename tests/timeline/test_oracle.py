"""The stored timeline answers as the pure engine does on the raw calendars (hypothesis).

Each example builds a calendar through the services (so the timeline is kept
the way production keeps it), then asks the same questions twice: once from
the stored timeline, once with CLEARWAY_TIMELINE off (the window sources
folded by the engine, the oracle). The week spans the end of US daylight
saving time (2030-11-03), so recurring rules and allowed windows in
America/New_York cross it.
"""

import contextlib
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from scheduling import change_state, conflicts, gate, window_cache
from scheduling.errors import Conflict
from scheduling.models import MaintenanceJob
from scheduling.services.catalogue import system_save
from scheduling.services.freeze import freeze_set
from scheduling.services.submission import maintenance_job_submit
from scheduling.services.transitions import maintenance_job_cancel
from scheduling.timeline import selectors as timeline_selectors
from scheduling.timeline.services import timeline_differences
from tests import builders

pytestmark = pytest.mark.django_db

ORIGIN = datetime(2030, 10, 30, tzinfo=UTC)
HOUR = timedelta(hours=1)
SYSTEMS = ("grading-db", "grading-api", "submissions-web", "reports-db")
IMPACTS = ("exclusive_lock", "downtime", "degraded", "none")

examples = hypothesis_settings(
    max_examples=25,
    # Each example builds a calendar in the database: shrinking one takes minutes,
    # and the failing example is printed as drawn.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

hours = st.integers(0, 10 * 24)
some_systems = st.lists(st.sampled_from(SYSTEMS), min_size=1, max_size=3, unique=True)


@st.composite
def deadlines(draw):
    return {
        "due": ORIGIN + draw(hours) * HOUR + draw(st.sampled_from([0, 30])) * timedelta(minutes=1),
        "cohort_size": draw(st.sampled_from([150, 250, 600, 900, 1200])),
        "systems": draw(some_systems),
        "title": f"Deadline {draw(st.integers(1, 99))}",
    }


NEW_YORK = ZoneInfo("America/New_York")


@st.composite
def blackouts(draw):
    start = ORIGIN + draw(hours) * HOUR
    recurring = draw(st.booleans())
    spec = {
        "start": start,
        "end": start + draw(st.integers(1, 12)) * HOUR,
        "systems": draw(st.lists(st.sampled_from(SYSTEMS), max_size=2, unique=True)),
        "severity": draw(st.sampled_from(["flag", "refuse"])),
        "title": f"Blackout {draw(st.integers(1, 99))}",
    }
    if recurring:
        if start.astimezone(NEW_YORK).fold:
            # The second pass of the hour New York repeats cannot start a
            # series (RFC 5545 reads it as the first): start an hour later.
            start += HOUR
            spec.update(start=start, end=spec["end"] + HOUR)
        spec.update(
            timezone="America/New_York", rrule=f"FREQ=DAILY;COUNT={draw(st.integers(2, 6))}"
        )
        if draw(st.booleans()):
            # The second occurrence: a day later on New York's wall clock, which
            # is not 24 hours later across the November change.
            local = start.astimezone(NEW_YORK).replace(tzinfo=None) + timedelta(days=1)
            spec["exdates"] = [local.replace(tzinfo=NEW_YORK)]
    return spec


@st.composite
def jobs(draw):
    start = ORIGIN + draw(hours) * HOUR
    return {
        "systems": draw(some_systems),
        "start": start,
        "end": start + draw(st.integers(1, 8)) * HOUR,
        "impact": draw(st.sampled_from(IMPACTS)),
        "submit": draw(st.booleans()),
        "cancel": draw(st.booleans()),
    }


@st.composite
def questions(draw):
    start = ORIGIN + draw(hours) * HOUR - 24 * HOUR
    return {
        "systems": draw(some_systems),
        "start": start,
        "end": start + draw(st.integers(1, 30)) * HOUR,
        "impact": draw(st.sampled_from(IMPACTS)),
    }


calendars = st.fixed_dictionaries(
    {
        "deadlines": st.lists(deadlines(), max_size=6),
        "blackouts": st.lists(blackouts(), max_size=3),
        "jobs": st.lists(jobs(), max_size=3),
        "allowed_window": st.booleans(),
        "freeze": st.sampled_from([False, False, False, True]),
        "questions": st.lists(questions(), min_size=1, max_size=4),
    }
)


def _build(calendar, *, admin, requester):
    if calendar["allowed_window"]:
        reports = builders.system("reports-db")
        system_save(
            system=reports,
            slug="reports-db",
            name="Reports",
            team=reports.team,
            window_rrule="FREQ=DAILY",
            window_start_time=datetime(2000, 1, 1, 22).time(),
            window_duration=timedelta(hours=5),
            window_timezone="America/New_York",
        )
    for spec in calendar["deadlines"]:
        builders.deadline(**spec)
    for spec in calendar["blackouts"]:
        builders.blackout(**spec)
    for spec in calendar["jobs"]:
        submit, cancel = spec.pop("submit"), spec.pop("cancel")
        job = builders.job(**spec)
        if submit:
            # A refused submission leaves a draft: also a case worth comparing.
            with contextlib.suppress(Conflict):
                maintenance_job_submit(job_id=job.pk, by=requester)
        if cancel:
            with contextlib.suppress(Conflict):
                maintenance_job_cancel(job_id=job.pk, by=requester)
    if calendar["freeze"]:
        freeze_set(active=True, reason="exams", by=admin)


def _normal(findings):
    """Findings as comparable values, sources as a set (equal peaks list them in any order)."""
    return sorted(
        (f.kind, f.severity, f.start, f.end, f.systems, f.title, tuple(sorted(f.sources)), f.url)
        for f in findings
    )


def _answers(question, settings, *, stored: bool):
    settings.CLEARWAY_TIMELINE = stored
    evaluation = conflicts.evaluate(**question)
    slots = conflicts.next_clear(
        systems=question["systems"],
        duration=question["end"] - question["start"],
        impact=question["impact"],
        after=question["start"],
        before=question["start"] + timedelta(days=14),
        limit=3,
    )
    earlier = conflicts.next_clear(
        systems=question["systems"],
        duration=question["end"] - question["start"],
        impact=question["impact"],
        after=question["start"] - timedelta(days=10),
        before=question["start"],
        limit=3,
        backwards=True,
    )
    state = change_state.state(
        systems=question["systems"], at=question["start"], impact=question["impact"]
    )
    return {
        "decision": evaluation.decision,
        "impacted": evaluation.impacted,
        "findings": _normal(evaluation.findings),
        "slots": slots,
        "earlier": earlier,
        "state": (state.open, state.next_transition, sorted(r.code for r in state.reasons)),
    }


def _hot(question, settings, *, caches: bool):
    """The gate of every job, the state at the question's start and a check of its
    window, from the stored timeline: with the caches off, on PostgreSQL, each read as
    one statement."""
    settings.CLEARWAY_TIMELINE = True
    settings.CLEARWAY_PROCESS_CACHES = caches
    for cache in (window_cache.windows, window_cache.closures, window_cache.jobs):
        cache.clear()
    window_cache.answers.clear()
    at = question["start"]
    gates = []
    for job_id in MaintenanceJob.objects.order_by("pk").values_list("pk", flat=True):
        job, read = gate.job_at(job_id=job_id, at=at, version=("oracle", caches))
        answer = gate.gate(job=job, at=at, read=read)
        gates.append(
            (answer.allowed, answer.window, answer.next_window, answer.reasons, answer.findings)
        )
    state = change_state.state(systems=question["systems"], at=at, impact=question["impact"])
    # A check, leaving the first job out as a move of it would.
    exclude = MaintenanceJob.objects.order_by("pk").values_list("pk", flat=True).first()
    systems, known = conflicts.checked_systems(
        raw=list(question["systems"]),
        start=at,
        end=question["end"],
        exclude_job=exclude,
        version=("oracle", caches),
    )
    check = conflicts.evaluate(
        systems=systems,
        start=at,
        end=question["end"],
        impact=question["impact"],
        exclude_job=exclude,
        version=("oracle", caches),
        known=known,
    )
    settings.CLEARWAY_PROCESS_CACHES = False
    return gates, state, (check.decision, check.impacted, _normal(check.findings))


def monkeypatch_batch(batch: int) -> None:
    # Walks read a few rows at a time here, so that answers spanning several
    # reads are compared too; the fixture below puts the default back.
    timeline_selectors.BATCH = batch


@pytest.fixture(autouse=True)
def _default_batch():
    default = timeline_selectors.BATCH
    yield
    timeline_selectors.BATCH = default


@examples
@given(calendar=calendars, batch=st.sampled_from([1, 2, 3, 500]))
def test_the_stored_timeline_answers_as_the_engine_does_on_raw_windows(
    calendar, org, admin, requester, settings, batch
):
    settings.CLEARWAY_PROCESS_CACHES = False
    monkeypatch_batch(batch)
    with transaction.atomic():
        _build(calendar, admin=admin, requester=requester)
        assert timeline_differences() == []
        for question in calendar["questions"]:
            assert _answers(question, settings, stored=True) == _answers(
                question, settings, stored=False
            )
            assert _hot(question, settings, caches=False) == _hot(question, settings, caches=True)
        transaction.set_rollback(True)

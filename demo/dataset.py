"""A large, realistic dataset for benchmarks (`manage.py generate_dataset`).

At scale 1.0: 500 systems with dependencies, 50,000 jobs, 100,000 deadlines
and 2,000 blackouts of which 500 recur weekly, over a 400-day horizon. Rows
are bulk-inserted (the services would take an hour), but they are the rows
the services would write: occurrences materialised, impacted systems set.
"""

import random
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from blackouts.models import Blackout, BlackoutOccurrence
from deadlines.models import Deadline
from scheduling import recurrence
from scheduling.choices import Decision, Impact, JobStatus, Severity
from scheduling.models import JobOccurrence, MaintenanceJob, System, Team
from scheduling.selectors import impacted_systems
from scheduling.services.calendar import calendar_change_record
from scheduling.services.occurrences import horizon_end
from scheduling.timeline.services import timeline_rebuild

BATCH = 5000
STATUSES = (
    [JobStatus.APPROVED] * 5 + [JobStatus.PENDING] * 2 + [JobStatus.DRAFT] * 2 + [JobStatus.DONE]
)


# Deadlines fall within this long of `now`.
HORIZON = timedelta(days=400)


def _count(base: int, scale: float, minimum: int = 1) -> int:
    return max(minimum, round(base * scale))


def _through(model, field: str):
    return getattr(model, field).through


@transaction.atomic
def generate(*, scale: float, seed: int = 42, now: datetime | None = None) -> dict[str, int]:
    rng = random.Random(seed)
    now = (now or timezone.now()).replace(minute=0, second=0, microsecond=0)
    teams, systems = _catalogue(scale)
    by_slug = {s.slug: s for s in systems}
    # One random stream, drawn in this order, so a seed always gives the same data.
    jobs = _jobs(rng, scale=scale, now=now, by_slug=by_slug)
    deadlines = _deadlines(rng, scale=scale, now=now, teams=teams, by_slug=by_slug)
    blackouts, occurrences = _blackouts(rng, scale=scale, now=now, teams=teams, by_slug=by_slug)
    calendar_change_record(reason=f"dataset generated at scale {scale}")
    # Written in bulk past the services, so the stored timeline is built once here.
    timeline_rebuild()
    return {
        "teams": len(teams),
        "systems": len(systems),
        "jobs": jobs,
        "deadlines": deadlines,
        "blackouts": blackouts,
        "blackout_occurrences": occurrences,
    }


def _catalogue(scale: float) -> tuple[list[Team], list[System]]:
    teams = Team.objects.bulk_create(
        Team(slug=f"team-{i}", name=f"Team {i}", email_addresses=[f"team-{i}@example.org"])
        for i in range(_count(40, scale, 4))
    )
    systems = System.objects.bulk_create(
        System(slug=f"sys-{i}", name=f"System {i}", team=teams[i % len(teams)])
        for i in range(_count(500, scale, 10))
    )
    # Systems come in groups of five: a database, two services on it, a web
    # front on one service, and a batch job on the other.
    edges = []
    for base in range(0, len(systems) - 4, 5):
        db, api, worker, web, batch = systems[base : base + 5]
        edges += [(api, db), (worker, db), (web, api), (batch, worker)]
    _through(System, "depends_on").objects.bulk_create(
        _through(System, "depends_on")(from_system=a, to_system=b) for a, b in edges
    )
    return teams, systems


def _jobs(rng: random.Random, *, scale: float, now: datetime, by_slug: dict[str, System]) -> int:
    slugs = list(by_slug)
    jobs, job_systems = [], []
    for i in range(_count(50_000, scale)):
        start = now + timedelta(hours=rng.randrange(-24 * 30, 24 * 400))
        booked = rng.sample(slugs, rng.choice([1, 1, 1, 2]))
        jobs.append(
            MaintenanceJob(
                title=f"Maintenance {i}",
                team=by_slug[booked[0]].team,
                start=start,
                end=start + timedelta(hours=rng.choice([1, 2, 4, 6, 8])),
                impact=rng.choice(Impact.values),
                status=rng.choice(STATUSES),
                decision=Decision.CLEAR,
            )
        )
        job_systems.append(booked)
    MaintenanceJob.objects.bulk_create(jobs, batch_size=BATCH)
    _job_rows(jobs, job_systems, by_slug=by_slug)
    return len(jobs)


def _job_rows(
    jobs: list[MaintenanceJob], job_systems: list[list[str]], *, by_slug: dict[str, System]
) -> None:
    """Booked and impacted systems and the one occurrence of each job."""
    closure = {slug: impacted_systems(systems=[slug]) for slug in by_slug}
    js, ji = _through(MaintenanceJob, "systems"), _through(MaintenanceJob, "impacted_systems")
    js_rows, ji_rows, jo = [], [], []
    for job, booked in zip(jobs, job_systems, strict=True):
        js_rows += [js(maintenancejob=job, system=by_slug[s]) for s in booked]
        ji_rows += [
            ji(maintenancejob=job, system=by_slug[s])
            for s in set().union(*(closure[b] for b in booked))
        ]
        jo.append(JobOccurrence(job=job, start=job.start, end=job.end))
    js.objects.bulk_create(js_rows, batch_size=BATCH)
    ji.objects.bulk_create(ji_rows, batch_size=BATCH)
    JobOccurrence.objects.bulk_create(jo, batch_size=BATCH)


def _deadlines(
    rng: random.Random,
    *,
    scale: float,
    now: datetime,
    teams: list[Team],
    by_slug: dict[str, System],
) -> int:
    slugs = list(by_slug)
    horizon_minutes = int(HORIZON.total_seconds() // 60)
    deadlines, deadline_systems = [], []
    for i in range(_count(100_000, scale)):
        deadlines.append(
            Deadline(
                title=f"Assignment {i}",
                course=f"C{i % 900}",
                cohort_size=int(min(3000, rng.lognormvariate(4.5, 1.0))) + 1,
                due=now + timedelta(minutes=rng.randrange(0, horizon_minutes)),
                team=teams[i % len(teams)],
            )
        )
        deadline_systems.append(rng.sample(slugs, rng.choice([1, 2, 2, 3])))
    Deadline.objects.bulk_create(deadlines, batch_size=BATCH)
    ds = _through(Deadline, "systems")
    ds.objects.bulk_create(
        (
            ds(deadline=d, system=by_slug[s])
            for d, chosen in zip(deadlines, deadline_systems, strict=True)
            for s in chosen
        ),
        batch_size=BATCH,
    )
    return len(deadlines)


def _blackouts(
    rng: random.Random,
    *,
    scale: float,
    now: datetime,
    teams: list[Team],
    by_slug: dict[str, System],
) -> tuple[int, int]:
    """(blackouts, their occurrences): a quarter weekly, the rest one-off."""
    slugs = list(by_slug)
    blackouts, blackout_systems = [], []
    recurring = _count(500, scale)
    # As blackout_materialise does: occurrences up to the rolling horizon, and
    # the blackout says how far (the calendar feed and the daily refresh read it).
    materialised_until = horizon_end(now=now)
    for i in range(_count(2_000, scale)):
        start = now + timedelta(hours=rng.randrange(-24 * 7, 24 * 400))
        blackouts.append(
            Blackout(
                title=f"Blackout {i}",
                team=teams[i % len(teams)],
                start=start,
                end=start + timedelta(hours=rng.choice([2, 4, 12, 24])),
                timezone="Europe/London",
                rrule="FREQ=WEEKLY" if i < recurring else "",
                severity=rng.choice([Severity.REFUSE, Severity.FLAG]),
                applies_to_all=False,
                materialised_until=materialised_until,
            )
        )
        blackout_systems.append(rng.sample(slugs, rng.choice([1, 2, 3])))
    Blackout.objects.bulk_create(blackouts, batch_size=BATCH)
    occurrences = _blackout_occurrences(blackouts, until=materialised_until)
    bs = _through(Blackout, "systems")
    bs.objects.bulk_create(
        (
            bs(blackout=b, system=by_slug[s])
            for b, chosen in zip(blackouts, blackout_systems, strict=True)
            for s in chosen
        ),
        batch_size=BATCH,
    )
    return len(blackouts), occurrences


def _blackout_occurrences(blackouts: list[Blackout], *, until: datetime) -> int:
    occurrences = []
    for blackout in blackouts:
        windows = (
            recurrence.expand(
                rrule_text=blackout.rrule,
                start=blackout.start,
                end=blackout.end,
                zone_name=blackout.timezone,
                before=until,
                cap=1000,
            )
            if blackout.rrule
            else [recurrence.Occurrence(blackout.start, blackout.end)]
        )
        occurrences += [
            BlackoutOccurrence(blackout=blackout, start=o.start, end=o.end) for o in windows
        ]
    BlackoutOccurrence.objects.bulk_create(occurrences, batch_size=BATCH)
    return len(occurrences)

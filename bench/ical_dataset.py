"""Rows for the iCal benchmark, written in bulk (the services would evaluate each one).

`fill(events=N)` adds jobs, blackouts and deadlines that make N feed events:
40 % jobs (one in ten weekly in New York, across DST changes), 20 % blackouts
(half weekly in London with an exception), 20 % deadlines (each is two events:
the due instant and its traffic window). The first call also creates the
catalogue and a person's feed token, and returns the token.
"""

from datetime import UTC, datetime, timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from blackouts.models import Blackout
from deadlines.models import Deadline
from scheduling.calendar_feeds.tokens import feed_token_create
from scheduling.models import MaintenanceJob, ReviewRequest, System, Team

BATCH = 2000
STATUSES = ("approved", "pending", "approved", "done", "cancelled", "conflicted")


def _catalogue() -> tuple[list[Team], list[System]]:
    teams = [
        Team.objects.get_or_create(slug=slug, defaults={"name": slug.title()})[0]
        for slug in ("infra", "grading", "curriculum", "platform")
    ]
    systems = [
        System.objects.get_or_create(
            slug=f"sys-{n:02}", defaults={"name": f"System {n}", "team": teams[n % 4]}
        )[0]
        for n in range(20)
    ]
    return teams, systems


def _link(through, rows: list[tuple[int, int]], left: str, right: str) -> None:
    through.objects.bulk_create([through(**{left: a, right: b}) for a, b in rows], batch_size=BATCH)


def _jobs(count: int, offset: int, teams, systems, base: datetime) -> None:
    now = timezone.now()
    finding = {
        "kind": "deadline",
        "severity": "flag",
        "message": "Up to 500 students are expected on sys-01 at the same time.",
    }
    jobs = []
    for n in range(offset, offset + count):
        start = base + timedelta(hours=n)
        recurring = n % 10 == 0
        jobs.append(
            MaintenanceJob(
                title=f"Job {n}",
                description="Runbook R-12: drain, vacuum, reindex, undrain.",
                team=teams[0],
                start=start,
                end=start + timedelta(hours=2),
                timezone="America/New_York" if recurring else ("UTC", "Europe/London")[n % 2],
                rrule="FREQ=WEEKLY;COUNT=10" if recurring else "",
                impact="degraded",
                status=STATUSES[n % len(STATUSES)],
                decision="flag" if n % 3 == 0 else "clear",
                findings=[finding] if n % 3 == 0 else [],
                evaluated_at=now,
                version=1 + n % 3,
                review_round=1,
            )
        )
    jobs = MaintenanceJob.objects.bulk_create(jobs, batch_size=BATCH)
    pairs = [(job.pk, systems[n % 20].pk) for n, job in enumerate(jobs)]
    _link(MaintenanceJob.systems.through, pairs, "maintenancejob_id", "system_id")
    impacted = pairs + [(job.pk, systems[(n + 1) % 20].pk) for n, job in enumerate(jobs)]
    _link(MaintenanceJob.impacted_systems.through, impacted, "maintenancejob_id", "system_id")
    ReviewRequest.objects.bulk_create(
        [
            ReviewRequest(
                job=job,
                team=teams[1],
                round=1,
                reason="owns sys-01",
                status="approved" if n % 2 else "pending",
                decided_at=now if n % 2 else None,
            )
            for n, job in enumerate(jobs)
        ],
        batch_size=BATCH,
    )


def _blackouts(count: int, offset: int, teams, systems, base: datetime) -> None:
    horizon = timezone.now() + timedelta(days=400)
    blackouts = []
    for n in range(offset, offset + count):
        start = base + timedelta(hours=5 * n + 3)
        recurring = n % 2 == 0
        blackouts.append(
            Blackout(
                title=f"Blackout {n}",
                reason="Exam period" if n % 3 else "",
                team=teams[3],
                start=start,
                end=start + timedelta(hours=3),
                timezone="Europe/London" if recurring else "UTC",
                rrule="FREQ=WEEKLY" if recurring else "",
                exdates=[(start + timedelta(weeks=2)).astimezone(UTC).isoformat()]
                if recurring
                else [],
                applies_to_all=n % 4 == 0,
                severity="flag" if n % 2 else "refuse",
                materialised_until=horizon,
            )
        )
    blackouts = Blackout.objects.bulk_create(blackouts, batch_size=BATCH)
    pairs = [(b.pk, systems[n % 20].pk) for n, b in enumerate(blackouts) if not b.applies_to_all]
    _link(Blackout.systems.through, pairs, "blackout_id", "system_id")


def _deadlines(count: int, offset: int, teams, systems, base: datetime) -> None:
    deadlines = Deadline.objects.bulk_create(
        [
            Deadline(
                title=f"Assignment {n}",
                course=f"CS{100 + n % 50}",
                cohort_size=100 + (n * 37) % 2000,
                due=base + timedelta(hours=3 * n, minutes=59),
                team=teams[2],
            )
            for n in range(offset, offset + count)
        ],
        batch_size=BATCH,
    )
    pairs = [(d.pk, systems[n % 20].pk) for n, d in enumerate(deadlines)]
    _link(Deadline.systems.through, pairs, "deadline_id", "system_id")


def fill(*, events: int, offset: int = 0) -> str:
    """Add rows making `events` feed events; return a feed token on the first call."""
    teams, systems = _catalogue()
    base = (timezone.now() + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    blackouts = events // 5
    deadlines = events // 5
    jobs = events - blackouts - 2 * deadlines
    _jobs(jobs, offset, teams, systems, base)
    _blackouts(blackouts, offset, teams, systems, base)
    _deadlines(deadlines, offset, teams, systems, base)
    if offset:
        return ""
    person = get_user_model().objects.create_user(username="bench-subscriber")
    return feed_token_create(user=person, name="Benchmark")[1]

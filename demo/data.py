"""A realistic organisation for a first run (`manage.py load_demo`).

The first screen shows the incident being prevented: a quarterly
grading-db optimisation that takes exclusive locks collides with a
2,000-student project deadline and is refused.
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from blackouts.models import Blackout
from blackouts.services import blackout_create
from deadlines.models import Cohort, Deadline
from deadlines.services import cohort_save, deadline_create
from scheduling.choices import Impact, Severity
from scheduling.models import MaintenanceJob, System, Team
from scheduling.services.catalogue import system_save, team_create
from scheduling.services.jobs import maintenance_job_create
from scheduling.services.submission import maintenance_job_submit

DEMO_PASSWORD = "clearway-demo"  # noqa: S105 - printed for a local first run only
LONDON = ZoneInfo("Europe/London")


@dataclass(frozen=True)
class DemoUser:
    username: str
    name: str
    team: str
    staff: bool = False


USERS = [
    DemoUser("admin", "Ada Admin", "platform", staff=True),
    DemoUser("alice", "Alice (DBA, infra)", "infra-dba"),
    DemoUser("bob", "Bob (grading reviewer)", "grading"),
    DemoUser("carol", "Carol (curriculum staff)", "curriculum"),
    DemoUser("dave", "Dave (platform)", "platform"),
]

TEAMS = [
    ("infra-dba", "Infrastructure & DBA"),
    ("grading", "Grading"),
    ("curriculum", "Curriculum"),
    ("platform", "Platform"),
]

# slug, name, team, depends_on
SYSTEMS = [
    ("grading-db", "Grading database", "infra-dba", []),
    ("grading-api", "Grading API", "grading", ["grading-db"]),
    ("submissions-web", "Submissions website", "grading", ["grading-api"]),
    ("lms-web", "Learning platform", "platform", []),
    ("auth", "Single sign-on", "platform", []),
]


def _at(day: datetime, hour: int, minute: int = 0) -> datetime:
    return day.replace(hour=hour, minute=minute, second=0, microsecond=0)


@transaction.atomic
def load_demo(*, now: datetime | None = None) -> list[str]:
    """Create what is missing; running it again changes nothing."""
    now = now or timezone.now()
    created: list[str] = []
    teams = _people(created)
    _systems(teams, created)
    local_today = now.astimezone(LONDON).replace(hour=0, minute=0, second=0, microsecond=0)
    project_due = _deadlines(teams, local_today, created)
    _blackouts(teams, local_today, now, created)
    _jobs(teams, local_today, project_due, now, created)
    return created


def _people(created: list[str]) -> dict[str, Team]:
    teams = {}
    for slug, name in TEAMS:
        team = Team.objects.filter(slug=slug).first()
        if team is None:
            team = team_create(slug=slug, name=name, email_addresses=[f"{slug}@example.org"])
            created.append(f"team {slug}")
        teams[slug] = team
    User = get_user_model()
    for demo in USERS:
        user = User.objects.filter(username=demo.username).first()
        if user is None:
            user = User.objects.create_user(
                username=demo.username,
                password=DEMO_PASSWORD,
                first_name=demo.name,
                email=f"{demo.username}@example.org",
                is_staff=demo.staff,
                is_superuser=demo.staff,
            )
            created.append(f"user {demo.username}")
            # Only the demo's own people join its teams: an account that was
            # there before keeps the teams it had.
            teams[demo.team].members.add(user)
    return teams


def _systems(teams: dict[str, Team], created: list[str]) -> None:
    for slug, name, team, depends_on in SYSTEMS:
        if not System.objects.filter(slug=slug).exists():
            window = {}
            if slug == "auth":
                window = {
                    "window_rrule": "FREQ=WEEKLY;BYDAY=SU",
                    "window_start_time": time(2, 0),
                    "window_duration": timedelta(hours=4),
                    "window_timezone": "Europe/London",
                }
            system_save(slug=slug, name=name, team=teams[team], depends_on=depends_on, **window)
            created.append(f"system {slug}")


def _deadlines(teams: dict[str, Team], local_today: datetime, created: list[str]) -> datetime:
    """The cohorts and their deadlines; returns when the big project is due."""
    project_due = _at(local_today + timedelta(days=10), 23, 59)
    cohorts = {
        name: Cohort.objects.filter(name=name).first()
        or cohort_save(name=name, size=size, team=teams["curriculum"])
        for name, size in [("CS 2026", 2000), ("Data Science MSc", 180), ("Design BA", 420)]
    }
    deadlines = [
        ("Project 3: distributed key-value store", "CS201", "CS 2026", project_due),
        ("Essay 2", "DS501", "Data Science MSc", _at(local_today + timedelta(days=4), 17)),
        ("Portfolio review", "DES110", "Design BA", _at(local_today + timedelta(days=17), 12)),
        ("Lab report 5", "CS201", "CS 2026", _at(local_today + timedelta(days=24), 9)),
    ]
    for title, course, cohort, due in deadlines:
        if not Deadline.objects.filter(title=title, course=course).exists():
            deadline_create(
                team=teams["curriculum"],
                title=title,
                course=course,
                cohort=cohorts[cohort],
                due=due,
                systems=["submissions-web", "grading-api"],
            )
            created.append(f"deadline {title}")
    return project_due


def _blackouts(
    teams: dict[str, Team], local_today: datetime, now: datetime, created: list[str]
) -> None:
    first_friday = local_today + timedelta(days=(4 - local_today.weekday()) % 7)
    blackouts = [
        {
            "title": "Exam board reporting",
            "reason": "Exam boards pull grade reports every Friday afternoon.",
            "start": _at(first_friday, 12),
            "end": _at(first_friday, 18),
            "rrule": "FREQ=WEEKLY;BYDAY=FR",
            "systems": ["grading-api"],
            "severity": Severity.FLAG,
        },
        {
            "title": "Results release",
            "reason": "End-of-term results are published to every student.",
            "start": _at(local_today + timedelta(days=30), 6),
            "end": _at(local_today + timedelta(days=32), 22),
            "systems": [],
            "severity": Severity.REFUSE,
        },
    ]
    for spec in blackouts:
        if not Blackout.objects.filter(title=spec["title"]).exists():
            blackout_create(team=teams["platform"], timezone="Europe/London", now=now, **spec)
            created.append(f"blackout {spec['title']}")


def _jobs(
    teams: dict[str, Team],
    local_today: datetime,
    project_due: datetime,
    now: datetime,
    created: list[str],
) -> None:
    User = get_user_model()
    booked_by = {
        "infra-dba": User.objects.get(username="alice"),
        "platform": User.objects.get(username="dave"),
    }
    jobs = [
        {
            # The incident: exclusive locks on the grading tables 14 hours
            # before a 2,000-student deadline.
            "title": "Quarterly grading-db optimisation (VACUUM FULL, REINDEX)",
            "description": "Rewrites the grading tables; takes ACCESS EXCLUSIVE locks.",
            "team": teams["infra-dba"],
            "systems": ["grading-db"],
            "start": _at(project_due - timedelta(days=1), 8),
            "end": _at(project_due - timedelta(days=1), 14),
            "rrule": "FREQ=MONTHLY;INTERVAL=3;COUNT=4",
            "impact": Impact.EXCLUSIVE_LOCK,
        },
        {
            "title": "Kernel patching on the learning platform",
            "team": teams["platform"],
            "systems": ["lms-web"],
            "start": _at(local_today + timedelta(days=6), 6),
            "end": _at(local_today + timedelta(days=6), 7),
            "impact": Impact.DEGRADED,
        },
        {
            # Impacts grading-api and submissions-web: Grading (bob) reviews it,
            # so the review inbox has something in it.
            "title": "Reindex the submissions table",
            "description": "REINDEX CONCURRENTLY; reads and writes go on, a little slower.",
            "team": teams["infra-dba"],
            "systems": ["grading-db"],
            "start": _at(local_today + timedelta(days=3), 6),
            "end": _at(local_today + timedelta(days=3), 7),
            "impact": Impact.DEGRADED,
        },
    ]
    # Submitted on a first load, so the review inbox (pending) and the month
    # view (approved) show what they do once people use Clearway.
    submitted = {"Kernel patching on the learning platform", "Reindex the submissions table"}
    for spec in jobs:
        if not MaintenanceJob.objects.filter(title=spec["title"]).exists():
            by = booked_by[spec["team"].slug]
            job = maintenance_job_create(timezone="Europe/London", by=by, now=now, **spec)
            created.append(f"job {spec['title']}")
            if spec["title"] in submitted:
                maintenance_job_submit(job_id=job.pk, by=by, now=now)

"""High 2: a recurrence rule that can never match is refused within 1 s everywhere.

dateutil searches for a rule's first occurrence period by period before any
COUNT, UNTIL or cap applies, so scheduling.recurrence bounds the work itself
(MAX_RULE_STEPS per walk, a shared budget per file). Every path (jobs,
blackouts, allowed windows, the booking preview, uploads, feeds) answers a
400 naming the rule, or records a feed error, in under a second of CPU.
"""

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from blackouts.models import Blackout
from deadlines.feeds.sync import feed_sync
from deadlines.models import Deadline
from scheduling.models import MaintenanceJob
from scheduling.recurrence import MAX_RULE_STEPS, build_rule
from tests import builders
from tests.deadlines.conftest import _feed_limits, lms  # noqa: F401
from tests.deadlines.helpers import feed
from tests.personas import as_user

pytestmark = pytest.mark.django_db

# From the issue, then a few more of the same kind.
NEVER = [
    "FREQ=HOURLY;COUNT=1;BYSETPOS=2",
    "FREQ=DAILY;COUNT=1;BYYEARDAY=366;BYMONTH=1",
    "FREQ=HOURLY;COUNT=1;BYWEEKNO=53;BYMONTH=6",
    "FREQ=DAILY;COUNT=2;BYMONTHDAY=31;BYMONTH=4,6",
    "FREQ=HOURLY;COUNT=1;BYYEARDAY=-366;BYMONTH=12",
    "FREQ=DAILY;COUNT=1;BYSETPOS=3",
]


@pytest.fixture(autouse=True)
def _warm(org):
    """The first request of a process imports and builds what every later one reuses;
    that is not the rule's cost, so it is paid before the clock starts."""
    client = Client()
    client.get("/accounts/login/")
    as_user(builders.user("warm-up")).get("/api/v1/jobs")


def timed(call):
    """The answer and the CPU seconds this process spent on it.

    The work a rule costs is CPU in this process (the test client runs the
    view here); the wall clock on a shared machine would also count the
    neighbours, and made this flaky under load (1.3 s of wall for 0.2 s of work).
    """
    started = time.process_time()
    answer = call()
    return answer, time.process_time() - started


@pytest.mark.parametrize("rule", NEVER)
def test_a_job_with_a_rule_that_never_matches_is_a_400_within_a_second(requester, rule):
    body = {
        "title": "Never",
        "team": "infra",
        "systems": ["reports-db"],
        "start": "2030-12-10T08:00:00Z",
        "end": "2030-12-10T09:00:00Z",
        "impact": "degraded",
        "rrule": rule,
    }

    answer, took = timed(lambda: as_user(requester).post("/api/v1/jobs", body, format="json"))

    assert took < 1
    assert answer.status_code == 400, answer.json()
    assert "rrule" in answer.json()["errors"]
    assert not MaintenanceJob.objects.exists()


@pytest.mark.parametrize("rule", NEVER[:3])
def test_a_blackout_with_a_rule_that_never_matches_is_a_400_within_a_second(admin, rule):
    body = {
        "title": "Never",
        "team": "platform",
        "start": "2030-12-10T08:00:00Z",
        "end": "2030-12-10T09:00:00Z",
        "rrule": rule,
    }

    answer, took = timed(lambda: as_user(admin).post("/api/v1/blackouts", body, format="json"))

    assert took < 1
    assert answer.status_code == 400, answer.json()
    assert "rrule" in answer.json()["errors"]
    assert not Blackout.objects.exists()


@pytest.mark.parametrize(
    "rule", [r.replace("COUNT=1;", "").replace("COUNT=2;", "") for r in NEVER[:3]]
)
def test_an_allowed_window_with_a_rule_that_never_matches_is_a_400_within_a_second(admin, rule):
    window = {
        "rrule": rule,
        "start_time": "02:00",
        "duration": "PT2H",
        "timezone": "Europe/London",
    }

    answer, took = timed(
        lambda: as_user(admin).patch(
            "/api/v1/systems/reports-db", {"maintenance_window": window}, format="json"
        )
    )

    assert took < 1
    assert answer.status_code == 400, answer.json()
    assert "maintenance_window" in answer.json()["errors"]


@pytest.mark.parametrize("rule", NEVER[:3])
def test_the_booking_preview_of_a_rule_that_never_matches_is_a_400_within_a_second(requester, rule):
    client = Client()
    client.force_login(requester)
    query = {
        "start": "2030-12-10T08:00",
        "end": "2030-12-10T09:00",
        "timezone": "Europe/London",
        "recurrence": "custom",
        "rrule": rule,
    }

    answer, took = timed(lambda: client.get("/jobs/preview/", query))

    assert took < 1
    assert answer.status_code == 400
    assert "rrule" in answer.json()["errors"]


def test_an_ics_upload_with_a_rule_that_never_matches_is_a_400_within_a_second(curriculum_staff):
    ics = ics_with(NEVER[:1])  # the one-event upload took 23 s

    answer, took = timed(
        lambda: as_user(curriculum_staff).post(
            "/api/v1/deadlines/upload",
            {"file": SimpleUploadedFile("never.ics", ics), "team": "curriculum"},
            format="multipart",
        )
    )

    assert took < 1
    assert answer.status_code == 400, answer.json()
    assert not Deadline.objects.exists()


def test_a_feed_full_of_rules_that_never_match_records_an_error_within_a_second(
    lms,  # noqa: F811
    org,
):
    url = lms.serve("/never.ics", ics_with(NEVER * 5), content_type="text/calendar")
    target = feed(url, team=org["curriculum"])

    result, took = timed(lambda: feed_sync(feed_id=target.pk))

    target.refresh_from_db()
    assert took < 1
    assert not result.ok
    assert "too much work" in target.last_error
    assert not Deadline.objects.exists()


def test_a_sparse_but_real_rule_is_still_expanded(requester):
    # Monday 29 February: 2044-02-29 is a Monday; the walk crosses ~13 years of days.
    rule = build_rule(
        rrule_text="FREQ=DAILY;COUNT=1;BYDAY=MO;BYMONTH=2;BYMONTHDAY=29",
        dtstart=_local(2031, 1, 1),
    )

    [first] = list(rule)

    assert (first.year, first.month, first.day) == (2044, 2, 29)


def test_the_budget_counts_dateutil_periods_not_occurrences():
    rule = build_rule(rrule_text="FREQ=DAILY", dtstart=_local(2031, 1, 1))

    taken = [moment for _, moment in zip(range(MAX_RULE_STEPS - 10), rule, strict=False)]

    assert len(taken) == MAX_RULE_STEPS - 10


def _local(*args):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime(*args, tzinfo=ZoneInfo("Europe/London"))


def ics_with(rules: list[str]) -> bytes:
    events = "".join(
        "BEGIN:VEVENT\r\n"
        f"UID:never-{number}\r\n"
        "SUMMARY:Never\r\n"
        "DTSTART;TZID=Europe/London:20301210T080000\r\n"
        "DTEND;TZID=Europe/London:20301210T090000\r\n"
        f"RRULE:{rule}\r\n"
        "END:VEVENT\r\n"
        for number, rule in enumerate(rules)
    )
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n" + events + "END:VCALENDAR\r\n"
    ).encode()

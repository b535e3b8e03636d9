"""The feeds, parsed back and expanded by a calendar library, match Clearway's occurrences.

recurring-ical-events expands RRULE/EXDATE the way calendar apps do. Over a
year, every instant it finds must be one Clearway materialised (JobOccurrence,
BlackoutOccurrence, deadline traffic windows) and none may be missing, across
both DST changes in New York and London.
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import recurring_ical_events
from django.conf import settings

from blackouts.models import BlackoutOccurrence
from deadlines.models import Deadline
from scheduling.models import JobOccurrence
from tests import builders
from tests.feeds.conftest import approved, submitted

NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
YEAR = timedelta(days=365)


def local(zone, *args) -> datetime:
    return datetime(*args, tzinfo=zone)


def expanded(calendar, start: datetime, end: datetime) -> set[tuple[str, datetime, datetime]]:
    found = set()
    for event in recurring_ical_events.of(calendar).between(start, end):
        begin = event["DTSTART"].dt
        finish = event["DTEND"].dt if "DTEND" in event else begin
        found.add((str(event["UID"]), begin.astimezone(UTC), finish.astimezone(UTC)))
    return found


def clearway(start: datetime, end: datetime, *, jobs=(), blackouts=()) -> set:
    found = set()
    for occurrence in JobOccurrence.objects.filter(job__in=jobs, start__lt=end, end__gt=start):
        found.add((f"job-{occurrence.job_id}@clearway", occurrence.start, occurrence.end))
    for occurrence in BlackoutOccurrence.objects.filter(
        blackout__in=blackouts, start__lt=end, end__gt=start
    ):
        found.add((f"blackout-{occurrence.blackout_id}@clearway", occurrence.start, occurrence.end))
    return found


def at_utc(found: set, uid: str) -> list[tuple[datetime, datetime]]:
    return sorted((s, e) for u, s, e in found if u == uid)


@pytest.fixture
def year(frozen_now):
    return frozen_now, frozen_now + YEAR


def test_a_weekly_new_york_job_expands_like_clearway_across_both_dst_changes(feeds, people, year):
    # Sundays 01:30-03:30 local: on 2031-03-09 the window is one real hour,
    # on 2031-11-02 it starts in the repeated hour's first pass and lasts three.
    job = builders.job(
        title="Weekly vacuum",
        by=people["alice"],
        start=local(NEW_YORK, 2030, 12, 1, 1, 30),
        end=local(NEW_YORK, 2030, 12, 1, 3, 30),
        timezone="America/New_York",
        rrule="FREQ=WEEKLY;BYDAY=SU;COUNT=52",
        impact="degraded",
    )
    job = approved(job, by=people["alice"], reviewer=people["bob"])

    found = expanded(feeds.calendar("maintenance"), *year)

    assert found == clearway(*year, jobs=[job])
    windows = dict(at_utc(found, f"job-{job.pk}@clearway"))
    spring = local(NEW_YORK, 2031, 3, 9, 1, 30).astimezone(UTC)
    autumn = local(NEW_YORK, 2031, 11, 2, 1, 30).astimezone(UTC)
    assert windows[spring] - spring == timedelta(hours=1)
    assert windows[autumn] - autumn == timedelta(hours=3)
    assert len(windows) == 52


def test_daily_jobs_in_the_spring_gap_and_the_repeated_autumn_hour(feeds, people, year):
    gap = builders.job(
        title="Nightly export",
        by=people["alice"],
        start=local(NEW_YORK, 2031, 3, 7, 2, 30),
        end=local(NEW_YORK, 2031, 3, 7, 3, 15),
        timezone="America/New_York",
        rrule="FREQ=DAILY;COUNT=5",
        impact="none",
        systems=["grading-api"],
    )
    repeated = builders.job(
        title="Nightly import",
        by=people["alice"],
        start=local(NEW_YORK, 2031, 10, 31, 1, 15),
        end=local(NEW_YORK, 2031, 10, 31, 1, 45),
        timezone="America/New_York",
        rrule="FREQ=DAILY;UNTIL=20311104",
        impact="none",
        systems=["grading-api"],
    )
    gap, repeated = submitted(gap, by=people["alice"]), submitted(repeated, by=people["alice"])

    found = expanded(feeds.calendar("maintenance"), *year)

    assert found == clearway(*year, jobs=[gap, repeated])
    assert len(at_utc(found, f"job-{gap.pk}@clearway")) == 5
    # The date-only UNTIL includes 4 November, local time.
    assert len(at_utc(found, f"job-{repeated.pk}@clearway")) == 5


def test_a_recurring_london_blackout_with_exdates_expands_like_clearway(feeds, people, year):
    # Sundays 00:30-03:00 London, unbounded: spring forward at 01:00 GMT on
    # 2031-03-30, fall back at 02:00 BST on 2031-10-26. Two occurrences are
    # excluded, one in winter and one in summer time.
    blackout = builders.blackout(
        title="Weekend batch",
        systems=["grading-db"],
        start=local(LONDON, 2030, 12, 1, 0, 30),
        end=local(LONDON, 2030, 12, 1, 3, 0),
        timezone="Europe/London",
        rrule="FREQ=WEEKLY;BYDAY=SU",
        exdates=["2030-12-15T00:30:00", "2031-07-06T00:30:00"],
    )

    found = expanded(feeds.calendar("blackouts"), *year)

    assert found == clearway(*year, blackouts=[blackout])
    starts = {s for s, _ in at_utc(found, f"blackout-{blackout.pk}@clearway")}
    assert local(LONDON, 2030, 12, 15, 0, 30).astimezone(UTC) not in starts
    assert local(LONDON, 2031, 7, 6, 0, 30).astimezone(UTC) not in starts
    assert local(LONDON, 2031, 7, 13, 0, 30).astimezone(UTC) in starts
    windows = dict(at_utc(found, f"blackout-{blackout.pk}@clearway"))
    spring = local(LONDON, 2031, 3, 30, 0, 30).astimezone(UTC)
    autumn = local(LONDON, 2031, 10, 26, 0, 30).astimezone(UTC)
    assert windows[spring] - spring == timedelta(hours=1, minutes=30)
    assert windows[autumn] - autumn == timedelta(hours=3, minutes=30)


def test_the_whole_calendar_round_trips(feeds, people, year):
    """all.ics: jobs, blackouts and deadlines together, one-off and recurring."""
    one_off = submitted(
        builders.job(title="Failover drill", by=people["alice"], timezone="Europe/London"),
        by=people["alice"],
    )
    monthly = submitted(
        builders.job(
            title="Patch Tuesday",
            by=people["alice"],
            start=local(NEW_YORK, 2030, 12, 10, 22, 0),
            end=local(NEW_YORK, 2030, 12, 11, 1, 0),
            timezone="America/New_York",
            rrule="FREQ=MONTHLY;BYDAY=2TU;COUNT=14",
            impact="downtime",
            systems=["submissions-web"],
        ),
        by=people["alice"],
    )
    blackouts = [
        builders.blackout(title="Winter exams", start=builders.at(16), end=builders.at(20)),
        builders.blackout(
            title="Quarter close",
            systems=["grading-api"],
            start=local(LONDON, 2030, 12, 31, 18, 0),
            end=local(LONDON, 2031, 1, 1, 6, 0),
            timezone="Europe/London",
            rrule="FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=-1",
            severity="flag",
        ),
    ]
    builders.deadline(title="Project 3", due=builders.at(12, 23, 59))
    builders.deadline(title="Thesis", due=datetime(2031, 6, 1, 11, 0, tzinfo=UTC))

    found = expanded(feeds.calendar("all"), *year)

    expected = clearway(*year, jobs=[one_off, monthly], blackouts=blackouts)
    lead, tail = settings.CLEARWAY_TRAFFIC_LEAD, settings.CLEARWAY_TRAFFIC_TAIL
    for deadline in Deadline.objects.all():
        expected.add((f"deadline-{deadline.pk}@clearway", deadline.due, deadline.due))
        expected.add((f"traffic-{deadline.pk}@clearway", deadline.due - lead, deadline.due + tail))
    assert found == expected
    assert len(at_utc(found, f"job-{monthly.pk}@clearway")) == 12  # 14 minus two beyond a year

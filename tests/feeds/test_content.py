"""What each event says: UID, SEQUENCE, STATUS, SUMMARY, DESCRIPTION, ... (RFC 5545)."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine
from django.conf import settings
from icalendar import Timezone

from deadlines.services import deadline_withdraw
from scheduling.services.reviews import maintenance_job_review
from scheduling.services.submission import maintenance_job_update
from scheduling.services.transitions import maintenance_job_cancel
from tests import builders
from tests.feeds.conftest import approved, submitted


def masters(calendar, uid: str) -> list:
    return [e for e in calendar.walk("VEVENT") if e["UID"] == uid and "RECURRENCE-ID" not in e]


def test_the_calendar_names_itself_and_says_how_often_to_refresh(feeds, people, frozen_now):
    builders.blackout(title="Exams", timezone="Europe/London")

    calendar = feeds.calendar("blackouts", query="?systems=grading-db")

    assert calendar["VERSION"] == "2.0"
    assert "Clearway" in str(calendar["PRODID"])
    assert calendar["X-WR-CALNAME"] == "Clearway blackouts (grading-db)"
    assert calendar["X-WR-TIMEZONE"] == settings.TIME_ZONE
    assert calendar["REFRESH-INTERVAL"].params["VALUE"] == "DURATION"
    assert calendar["REFRESH-INTERVAL"].dt == timedelta(minutes=30)
    assert calendar["X-PUBLISHED-TTL"] == "PT30M"
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/London"]


def test_the_vtimezone_puts_each_change_where_zoneinfo_does(feeds, people, frozen_now):
    """Read back under another name, so icalendar cannot fall back on zoneinfo."""
    builders.blackout(title="Exams", timezone="America/New_York")
    text = feeds.calendar("blackouts").walk("VTIMEZONE")[0].to_ical()
    zone = Timezone.from_ical(text.replace(b"America/New_York", b"Clearway-NY")).to_tz()

    for instant in (
        datetime(2031, 3, 9, 6, 59, tzinfo=UTC),  # 01:59 EST
        datetime(2031, 3, 9, 7, 0, tzinfo=UTC),  # 03:00 EDT
        datetime(2031, 11, 2, 5, 59, tzinfo=UTC),  # 01:59 EDT
        datetime(2031, 11, 2, 6, 0, tzinfo=UTC),  # 01:00 EST
    ):
        expected = instant.astimezone(ZoneInfo("America/New_York")).utcoffset()
        assert instant.astimezone(zone).utcoffset() == expected, instant


def test_a_job_says_who_what_where_and_links_back(feeds, people, frozen_now):
    job = approved(
        builders.job(title="Reindex grades", by=people["alice"], description="Runbook: R-12"),
        by=people["alice"],
        reviewer=people["bob"],
    )

    event = feeds.events("maintenance")[f"job-{job.pk}@clearway"]

    assert event["SUMMARY"] == "Maintenance: Reindex grades (grading-db)"
    assert event["STATUS"] == "CONFIRMED"
    assert event["SEQUENCE"] == job.version
    assert event["URL"] == f"{settings.SITE_URL}/jobs/{job.pk}/"
    assert event["CATEGORIES"].cats == ["maintenance"]
    assert event["DTSTART"].dt == job.start
    assert event["DTEND"].dt == job.end
    assert event["DTSTAMP"].dt == job.updated_at.replace(microsecond=0)
    assert event["LAST-MODIFIED"].dt == job.updated_at.replace(microsecond=0)
    description = str(event["DESCRIPTION"])
    assert "Status: Approved" in description
    assert "also impacts grading-api, submissions-web" in description
    assert "Grading: approved by bob" in description
    assert "Runbook: R-12" in description


def test_findings_and_the_review_state_are_in_the_description(feeds, people, frozen_now):
    builders.deadline(title="Essay", cohort_size=500, due=builders.at(10, 12))
    job = submitted(builders.job(title="Vacuum", by=people["alice"]), by=people["alice"])

    event = feeds.events("maintenance")[f"job-{job.pk}@clearway"]

    assert event["STATUS"] == "TENTATIVE"
    description = str(event["DESCRIPTION"])
    assert "Decision: flag" in description
    assert "- FLAG: Up to 500 students are expected on grading-api" in description
    # The deadline's team reviews the flag, as the owner of grading-api does.
    assert "- Curriculum: pending\n- Grading: pending" in description


def test_every_change_raises_the_sequence_and_reaches_the_feed(feeds, people, frozen_now):
    job = submitted(builders.job(title="Vacuum", by=people["alice"]), by=people["alice"])
    before = feeds.events("maintenance")[f"job-{job.pk}@clearway"]

    maintenance_job_update(job_id=job.pk, by=people["alice"], title="Vacuum full")
    after = feeds.events("maintenance")[f"job-{job.pk}@clearway"]

    assert after["SEQUENCE"] > before["SEQUENCE"]
    assert after["SUMMARY"] == "Maintenance: Vacuum full (grading-db)"


def test_a_review_decision_reaches_the_description_although_the_version_stays(
    feeds, people, frozen_now
):
    platform = builders.team("platform")
    carol = builders.user("carol", team=platform)
    builders.system("backups", owner=platform, depends_on=["grading-db"])
    job = submitted(builders.job(title="Vacuum", by=people["alice"]), by=people["alice"])
    assert feeds.events("maintenance")[f"job-{job.pk}@clearway"]  # cached now

    maintenance_job_review(job_id=job.pk, team="platform", by=carol, approve=True)

    description = str(feeds.events("maintenance")[f"job-{job.pk}@clearway"]["DESCRIPTION"])
    assert "Platform: approved by carol" in description
    assert "Grading: pending" in description


def test_drafts_and_rejected_jobs_are_not_published(feeds, people, frozen_now):
    builders.job(title="Draft", by=people["alice"])
    rejected = submitted(builders.job(title="Rejected", by=people["alice"]), by=people["alice"])
    maintenance_job_review(
        job_id=rejected.pk, team="grading", by=people["bob"], approve=False, comment="No."
    )

    assert feeds.events("maintenance") == {}


def test_a_cancelled_job_stays_cancelled_for_a_day_then_goes(feeds, people, frozen_now):
    job = approved(
        builders.job(title="Vacuum", by=people["alice"]), by=people["alice"], reviewer=people["bob"]
    )
    maintenance_job_cancel(job_id=job.pk, by=people["alice"], reason="not needed")
    uid = f"job-{job.pk}@clearway"

    assert feeds.events("maintenance")[uid]["STATUS"] == "CANCELLED"
    with time_machine.travel(frozen_now + timedelta(hours=23), tick=False):
        assert feeds.events("maintenance")[uid]["STATUS"] == "CANCELLED"
    with time_machine.travel(frozen_now + timedelta(days=1, minutes=1), tick=False):
        assert uid not in feeds.events("maintenance")


def test_a_recurring_job_is_one_event_with_its_rule(feeds, people, frozen_now):
    job = submitted(
        builders.job(
            title="Weekly vacuum",
            by=people["alice"],
            start=builders.at(1, 8),
            timezone="Europe/London",
            rrule="FREQ=WEEKLY;UNTIL=20310301",
        ),
        by=people["alice"],
    )

    calendar = feeds.calendar("maintenance")

    [event] = masters(calendar, f"job-{job.pk}@clearway")
    # The local, date-only UNTIL becomes the UTC end of that London day.
    assert event["RRULE"].to_ical() == b"FREQ=WEEKLY;UNTIL=20310301T235959Z"
    assert event["DTSTART"].params["TZID"] == "Europe/London"
    assert len(calendar.walk("VEVENT")) == 1  # no DST change in this winter


def test_a_blackout_lists_its_exceptions_in_its_zone(feeds, people, frozen_now):
    blackout = builders.blackout(
        title="Nightly batch",
        start=builders.at(2, 1),
        end=builders.at(2, 3),
        timezone="America/New_York",
        rrule="FREQ=DAILY",
        exdates=["2030-12-05T20:00:00"],
        severity="flag",
    )

    [event] = masters(feeds.calendar("blackouts"), f"blackout-{blackout.pk}@clearway")

    assert event["SUMMARY"] == "Blackout: Nightly batch (all systems)"
    assert event["CATEGORIES"].cats == ["blackout"]
    assert "changes need extra review" in str(event["DESCRIPTION"])
    [exdate] = event["EXDATE"].dts
    assert exdate.dt.isoformat() == "2030-12-05T20:00:00-05:00"
    assert exdate.params["TZID"] == "America/New_York"


def test_a_deadline_is_its_due_instant_and_its_traffic_window(feeds, people, frozen_now):
    deadline = builders.deadline(title="Project 3", cohort_size=1200, due=builders.at(12, 23, 59))

    events = feeds.events("deadlines")

    due, window = (
        events[f"deadline-{deadline.pk}@clearway"],
        events[f"traffic-{deadline.pk}@clearway"],
    )
    assert due["DTSTART"].dt == deadline.due and "DTEND" not in due
    assert due["CATEGORIES"].cats == ["deadline"]
    assert due["SUMMARY"] == "Deadline: Project 3 (1,200 students; grading-api)"
    assert window["DTSTART"].dt == deadline.due - settings.CLEARWAY_TRAFFIC_LEAD
    assert window["DTEND"].dt == deadline.due + settings.CLEARWAY_TRAFFIC_TAIL
    assert window["CATEGORIES"].cats == ["traffic"]
    assert {due["STATUS"], window["STATUS"]} == {"CONFIRMED"}


def test_a_withdrawn_deadline_is_cancelled_for_a_day(feeds, people, frozen_now):
    deadline = builders.deadline(title="Project 3")
    deadline_withdraw(deadline=deadline)

    events = feeds.events("deadlines")
    assert events[f"deadline-{deadline.pk}@clearway"]["STATUS"] == "CANCELLED"
    assert events[f"traffic-{deadline.pk}@clearway"]["STATUS"] == "CANCELLED"
    with time_machine.travel(frozen_now + timedelta(days=1, minutes=1), tick=False):
        assert feeds.events("deadlines") == {}

"""Stored VEVENT texts: a fresh process serves them, and no change leaves one stale."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core.cache import caches
from django.db import connection
from django.db.models import F
from django.test import Client
from django.test.utils import CaptureQueriesContext

from blackouts.services import blackout_delete, blackout_update, blackouts_refresh_horizon
from scheduling.calendar_feeds import render, sources, zones
from scheduling.calendar_feeds.sources import FeedQuery, all_sources
from scheduling.calendar_feeds.stored import feed_texts_prune, texts_for
from scheduling.models import FeedText, MaintenanceJob, System
from scheduling.services.catalogue import system_save, team_update
from scheduling.services.freeze import freeze_schedule
from scheduling.services.transitions import maintenance_job_cancel
from tests import builders
from tests.feeds.conftest import approved, body_of

LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def calendar(people, frozen_now):
    """One row of every source kind: an approved job, a weekly blackout, a freeze, a deadline."""
    job = approved(
        builders.job(title="Reindex grades", by=people["alice"], impact="none"),
        by=people["alice"],
        reviewer=people["bob"],
    )
    blackout = builders.blackout(
        title="Exams",
        systems=["grading-db"],
        owner=people["alice"].teams.get(),
        start=datetime(2030, 12, 15, 9, tzinfo=LONDON),
        end=datetime(2030, 12, 15, 17, tzinfo=LONDON),
        timezone="Europe/London",
        rrule="FREQ=WEEKLY;COUNT=4",
    )
    freeze = freeze_schedule(
        reason="Audit",
        start=builders.at(20, 9),
        end=builders.at(20, 17),
        timezone="UTC",
        by=builders.user("pat", staff=True),
    )
    deadline = builders.deadline(title="Essay", owner=people["alice"].teams.get())
    return {"job": job, "blackout": blackout, "freeze": freeze, "deadline": deadline}


def refuse_rendering(monkeypatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("an event was rendered")

    monkeypatch.setattr(render, "_event_text", refuse)


def a_fresh_process():
    """Forget everything a process keeps: caches, the configured sources, built zones."""
    caches[settings.CLEARWAY_FEED_CACHE].clear()
    sources._all_sources.cache_clear()
    zones._built.clear()


def test_a_fresh_process_serves_the_stored_texts_without_rendering(feeds, calendar, monkeypatch):
    served = body_of(feeds.get("all"))
    a_fresh_process()
    refuse_rendering(monkeypatch)

    assert body_of(feeds.get("all")) == served


def test_the_processes_caches_are_not_needed(feeds, calendar, settings, monkeypatch):
    feeds.events("all")
    settings.CLEARWAY_PROCESS_CACHES = False
    a_fresh_process()
    refuse_rendering(monkeypatch)

    events = feeds.events("all")

    assert f"job-{calendar['job'].pk}@clearway" in events


def test_every_stored_text_equals_a_fresh_render(feeds, calendar, frozen_now):
    body_of(feeds.get("all"))  # stores what the services did not (the freeze)
    kinds = set()

    for source in all_sources():
        query = FeedQuery(feed=source.feed, now=frozen_now)
        for stored in FeedText.objects.filter(kind=source.kind):
            events = source.events(ids=[stored.row_id], query=query)[stored.row_id]
            assert stored.text == render.render_events(events).decode(), stored
            kinds.add(source.kind)

    assert kinds == {"job", "blackout", "freeze", "deadline"}


def test_the_services_store_the_text_of_the_row_they_change(calendar):
    stored = set(FeedText.objects.values_list("kind", "row_id"))

    assert {
        ("job", calendar["job"].pk),
        ("blackout", calendar["blackout"].pk),
        ("deadline", calendar["deadline"].pk),
    } <= stored


def test_a_cancelled_job_is_served_cancelled(feeds, calendar, people):
    job = calendar["job"]
    feeds.events("all")

    maintenance_job_cancel(job_id=job.pk, by=people["alice"])

    assert feeds.events("all")[f"job-{job.pk}@clearway"]["STATUS"] == "CANCELLED"


def test_a_renamed_team_is_served_with_its_new_name_everywhere(feeds, calendar, people):
    feeds.events("all")
    team_update(team=people["alice"].teams.get(), name="Platform engineering")
    grading = people["bob"].teams.get()
    team_update(team=grading, name="Marking")

    events = feeds.events("all")

    for key in ("job", "blackout", "deadline"):
        uid = f"{key}-{calendar[key].pk}@clearway"
        assert "Team: Platform engineering." in str(events[uid]["DESCRIPTION"]), key
    # The job's review names the reviewing team, whose rename touched no job row.
    assert "Marking: approved by bob" in str(
        events[f"job-{calendar['job'].pk}@clearway"]["DESCRIPTION"]
    )


def test_a_renamed_reviewer_is_served_with_the_new_name(feeds, calendar, people):
    feeds.events("all")
    people["bob"].username = "robert"
    people["bob"].save()

    description = str(feeds.events("all")[f"job-{calendar['job'].pk}@clearway"]["DESCRIPTION"])

    assert "approved by robert" in description


def test_a_renamed_system_is_served_with_its_new_slug(feeds, calendar):
    feeds.events("all")
    system = System.objects.get(slug="grading-api")
    system_save(
        system=system,
        slug="marking-api",
        name=system.name,
        team=system.team,
        depends_on=["grading-db"],
    )

    events = feeds.events("all")

    job = str(events[f"job-{calendar['job'].pk}@clearway"]["DESCRIPTION"])
    assert "also impacts marking-api, submissions-web" in job
    deadline = str(events[f"deadline-{calendar['deadline'].pk}@clearway"]["SUMMARY"])
    assert deadline == "Deadline: Essay (2,000 students; marking-api)"


def test_a_new_dependent_system_is_served_in_the_jobs_text(feeds, calendar, people):
    feeds.events("all")
    builders.system("grading-reports", owner=people["bob"].teams.get(), depends_on=["grading-db"])

    description = str(feeds.events("all")[f"job-{calendar['job'].pk}@clearway"]["DESCRIPTION"])

    assert "also impacts grading-api, grading-reports, submissions-web" in description


def test_an_exdate_added_to_a_blackout_is_served(feeds, calendar):
    blackout = calendar["blackout"]
    feeds.events("all")
    skipped = datetime(2030, 12, 22, 9, tzinfo=LONDON)

    blackout_update(blackout=blackout, exdates=[skipped])

    event = feeds.events("all")[f"blackout-{blackout.pk}@clearway"]
    assert [moment.dt for moment in event["EXDATE"].dts] == [skipped]


def test_a_row_changed_without_the_services_is_rendered_again(feeds, calendar):
    job = calendar["job"]
    feeds.events("all")
    MaintenanceJob.objects.filter(pk=job.pk).update(title="Renamed", version=F("version") + 1)

    summary = feeds.events("all")[f"job-{job.pk}@clearway"]["SUMMARY"]

    assert summary == "Maintenance: Renamed (grading-db)"


def test_a_new_render_format_renders_every_text_again(feeds, calendar, monkeypatch):
    feeds.events("all")
    stored = dict(FeedText.objects.values_list("pk", "stamp"))
    monkeypatch.setattr(sources, "RENDER_FORMAT", sources.RENDER_FORMAT + 1)

    feeds.events("all")

    fresh = dict(FeedText.objects.values_list("pk", "stamp"))
    assert fresh.keys() == stored.keys()
    assert all(fresh[pk] != stamp for pk, stamp in stored.items())


def test_a_renamed_team_changes_the_etag(feeds, calendar, people, frozen_now):
    first = feeds.get("all")
    team_update(team=people["alice"].teams.get(), name="Platform engineering")
    caches[settings.CLEARWAY_FEED_CACHE].clear()  # the validator is kept a minute

    again = feeds.get("all", If_None_Match=first["ETag"])

    assert again.status_code == 200
    assert again["ETag"] != first["ETag"]


def test_a_renamed_reviewer_changes_the_etag(feeds, calendar, people, frozen_now):
    first = feeds.get("all")
    people["bob"].username = "robert"
    people["bob"].save()
    caches[settings.CLEARWAY_FEED_CACHE].clear()  # the validator is kept a minute

    again = feeds.get("all", If_None_Match=first["ETag"])

    assert again.status_code == 200
    assert again["ETag"] != first["ETag"]


def test_the_public_feed_keeps_its_own_texts(calendar, frozen_now, settings):
    settings.CLEARWAY_PUBLIC_CALENDARS = True

    public = body_of(Client().get("/calendar/public/grading-db.ics"))

    assert b"Reindex grades" in public
    assert b"Reviews" not in public
    assert FeedText.objects.filter(kind="job", public=True).count() == 1
    assert FeedText.objects.filter(kind="job", public=False).count() == 1


def test_pages_of_stored_texts_take_one_query_each(feeds, calendar, frozen_now):
    """Rows and their stored texts are read together: no query per row."""
    query = FeedQuery(feed="deadlines", now=frozen_now)
    source = next(source for source in all_sources() if source.kind == "deadline")
    for n in range(4):
        builders.deadline(title=f"Quiz {n}", due=builders.at(14 + n, 9))

    with CaptureQueriesContext(connection) as captured:
        entries = source.entries(query=query, limit=1000)

    assert len(captured) == 1
    assert len(entries) == 5 and all(entry.text is not None for entry in entries)


def test_a_draft_job_gets_no_stored_text(people, frozen_now):
    draft = builders.job(title="Draft only", by=people["alice"])

    assert not FeedText.objects.filter(kind="job", row_id=draft.pk).exists()


def test_the_daily_prune_drops_the_texts_of_rows_no_feed_shows(calendar):
    blackout_delete(blackout=calendar["blackout"])

    assert feed_texts_prune() == 1
    kinds = set(FeedText.objects.values_list("kind", flat=True))
    assert kinds == {"job", "deadline"}


def test_a_text_is_stored_under_the_stamp_of_the_data_it_was_rendered_from(
    calendar, people, frozen_now
):
    source = next(source for source in all_sources() if source.kind == "job")
    query = FeedQuery(feed="maintenance", now=frozen_now)
    team = people["alice"].teams.get()
    old_name = team.name
    FeedText.objects.all().delete()
    page = source.entries(query=query, limit=10)
    team_update(team=team, name="Platform engineering")  # between the page read and the render

    texts_for(source=source, query=query, entries=page)
    stored = FeedText.objects.get(kind="job", row_id=calendar["job"].pk)
    assert "Team: Platform engineering." in stored.text
    team_update(team=team, name=old_name)  # and back

    (entry,) = source.entries(query=query, limit=10)
    assert entry.text is None  # the text naming the new name is not served for the old one


def test_the_daily_horizon_roll_renders_recurring_blackouts_itself(
    feeds, calendar, frozen_now, monkeypatch
):
    feeds.events("all")
    later = frozen_now + timedelta(days=3)
    with time_machine.travel(later, tick=False):
        blackouts_refresh_horizon(now=later)
        refuse_rendering(monkeypatch)

        event = feeds.events("all")[f"blackout-{calendar['blackout'].pk}@clearway"]

    assert event["SUMMARY"] == "Blackout: Exams (grading-db)"

"""Every scheduling page through Django's test client: who may see it, and errors by fields."""

import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from django.conf import settings
from django.utils import timezone

from scheduling.models import FeedToken, MaintenanceJob
from scheduling.services.freeze import freeze_get
from scheduling.services.submission import maintenance_job_submit
from tests import builders
from tests.ui.conftest import client_for

pytestmark = pytest.mark.django_db

PAGES = ["/", "/jobs/", "/jobs/new/", "/reviews/", "/freeze/", "/systems/", "/feed-tokens/"]


def soon(days: int = 3, hour: int = 8) -> datetime:
    day = (timezone.now() + timedelta(days=days)).astimezone(UTC)
    return day.replace(hour=hour, minute=0, second=0, microsecond=0)


def job_post(**overrides) -> dict:
    start = soon(3)
    return {
        "team": "infra-dba",
        "title": "Reindex",
        "systems": ["grading-db"],
        "start": start.strftime("%Y-%m-%dT%H:%M"),
        "end": (start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        "timezone": "UTC",
        "recurrence": "none",
        "count": "4",
        "impact": "exclusive_lock",
        **overrides,
    }


def error_next_to(html: str, field: str) -> str:
    """The text of the error list rendered right under a field (id_<field>_error)."""
    match = re.search(rf'<ul class="errorlist" id="id_{field}_error">(.*?)</ul>', html, re.S)
    assert match, f"no error next to {field}"
    return re.sub(r"<[^>]+>", "", match.group(1))


@pytest.mark.parametrize("path", [*PAGES, "/blackouts/", "/deadlines/", "/jobs/1/"])
def test_anonymous_visitors_are_sent_to_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_login_page_renders_and_says_what_went_wrong(client, alice):
    assert client.get("/accounts/login/").status_code == 200
    response = client.post("/accounts/login/", {"username": "alice", "password": "wrong"})
    assert "Please enter a correct username and password" in response.content.decode()
    assert 'value="alice"' in response.content.decode()


def test_navigation_follows_roles(alice, bob, carol, pat):
    def nav(person):
        html = client_for(person).get("/").content.decode()
        return re.search(r'<nav aria-label="Main">(.*?)</nav>', html, re.S).group(1)

    assert "Book a job" in nav(alice) and "Systems" not in nav(alice)
    # Everyone signed in reads the calendar's sources; team members manage CI tokens.
    assert all(word in nav(alice) for word in ("Deadlines", "Blackouts", "API tokens"))
    assert "Feeds" not in nav(alice)
    assert "Reviews" in nav(bob)
    assert "Deadlines" in nav(carol) and "Feeds" in nav(carol) and "Book a job" not in nav(carol)
    admin = nav(pat)
    assert all(word in admin for word in ("Blackouts", "Systems", "Freeze", "Admin"))


@pytest.mark.parametrize("view", ["week", "month", "timeline"])
def test_the_calendar_shows_jobs_blackouts_deadlines_and_traffic(view, alice, bob, org):
    start = soon(2)
    job = builders.job(owner=org["infra"], systems=("grading-db",), start=start, by=alice)
    maintenance_job_submit(job_id=job.pk, by=alice)
    builders.blackout(title="Exam boards", start=start + timedelta(hours=5), systems=("lms-web",))
    deadline = builders.deadline(title="Project 3", due=soon(2, 23), owner=org["curriculum"])
    html = client_for(alice).get(f"/?view={view}&date={start:%Y-%m-%d}").content.decode()
    assert f'href="/jobs/{job.pk}/"' in html
    assert "Exam boards" in html
    assert f'href="/deadlines/{deadline.pk}/"' in html
    assert "traffic-refuse" in html  # 2,000 students: shaded as refusing
    assert "Subscribe" in html


def test_calendar_filters_by_system_and_team(alice, org):
    builders.blackout(title="LMS upgrade", start=soon(1), systems=("lms-web",))
    builders.blackout(title="Grading freeze", start=soon(1), systems=("grading-api",))
    client = client_for(alice)
    # The week holding the blackouts: on a Sunday, tomorrow is in next week.
    day = f"{soon(1):%Y-%m-%d}"
    assert "LMS upgrade" not in client.get(f"/?system=grading-api&date={day}").content.decode()
    by_team = client.get(f"/?team=grading&date={day}").content.decode()
    assert "Grading freeze" in by_team and "LMS upgrade" not in by_team
    assert client.get("/?date=not-a-date&view=nonsense").status_code == 200


def test_the_zone_chooser_keeps_the_zone_in_the_session(alice):
    client = client_for(alice)
    response = client.post("/zone/", {"zone": "Europe/London", "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert "Times in Europe/London" in client.get("/").content.decode()
    bad = client.post("/zone/", {"zone": "Mars/Olympus"})
    assert bad.status_code == 400
    assert "Select a valid choice" in error_next_to(bad.content.decode(), "zone")


def test_booking_is_for_team_members_only(alice, outsider):
    assert client_for(alice).get("/jobs/new/").status_code == 200
    assert client_for(outsider).get("/jobs/new/").status_code == 403


def test_booking_submits_the_job_for_review(alice, bob):
    response = client_for(alice).post("/jobs/new/", job_post(action="submit"))
    job = MaintenanceJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/jobs/{job.pk}/"
    assert job.status == "pending"
    assert list(job.reviews.values_list("team__slug", flat=True)) == ["grading"]


def test_saving_a_draft_does_not_submit(alice):
    client_for(alice).post("/jobs/new/", job_post(action="draft"))
    assert MaintenanceJob.objects.get().status == "draft"


def test_booking_errors_are_shown_next_to_their_fields(alice):
    response = client_for(alice).post(
        "/jobs/new/", job_post(title="", end=job_post()["start"], systems=[])
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "This field is required" in error_next_to(html, "title")
    assert "This field is required" in error_next_to(html, "systems")
    assert 'value="infra-dba" selected' in html


def test_a_custom_rule_that_is_too_long_gets_one_error_that_says_so(alice):
    # It also said "Type a rule, or choose a preset." under the rule just typed.
    rule = "FREQ=DAILY;COUNT=3;" + "BYHOUR=8;" * 60
    response = client_for(alice).post("/jobs/new/", job_post(recurrence="custom", rrule=rule))

    assert response.status_code == 400
    error = error_next_to(response.content.decode(), "rrule")
    assert "at most 500 characters" in error
    assert "Type a rule" not in error


def test_a_count_that_is_not_a_number_gets_one_error_that_says_so(alice):
    response = client_for(alice).post("/jobs/new/", job_post(recurrence="weekly", count="lots"))

    assert response.status_code == 400
    error = error_next_to(response.content.decode(), "count")
    assert "Enter a whole number" in error
    assert "Say how many times" not in error


def test_a_service_error_lands_next_to_its_field(alice):
    response = client_for(alice).post("/jobs/new/", job_post(end=job_post()["start"]))
    assert "The end must be after the start" in error_next_to(response.content.decode(), "end")
    custom = client_for(alice).post("/jobs/new/", job_post(recurrence="custom", rrule="FREQ=DAILY"))
    assert "needs an end" in error_next_to(custom.content.decode(), "rrule")


def test_a_refused_booking_explains_keeps_everything_and_books_nothing(alice, org):
    builders.deadline(title="Project 3", due=soon(3, 20), owner=org["curriculum"])
    response = client_for(alice).post("/jobs/new/", job_post(description="VACUUM FULL"))
    html = response.content.decode()
    assert response.status_code == 409
    assert "This window is refused" in html and "Project 3 (2,000 students)" in html
    assert "Use this slot" in html
    assert 'value="Reindex"' in html and "VACUUM FULL" in html
    assert not MaintenanceJob.objects.exists()


def test_an_emergency_needs_a_justification_next_to_it(alice, org):
    builders.deadline(title="Project 3", due=soon(3, 20), owner=org["curriculum"])
    response = client_for(alice).post("/jobs/new/", job_post(emergency="on"))
    assert "justification" in error_next_to(response.content.decode(), "justification")
    ok = client_for(alice).post("/jobs/new/", job_post(emergency="on", justification="Disk full"))
    assert ok.status_code == 302
    assert MaintenanceJob.objects.get().emergency


def test_the_preview_lists_occurrences_and_errors(alice):
    client = client_for(alice)
    base = {"start": "2030-12-02T08:00", "end": "2030-12-02T10:00", "timezone": "Europe/London"}
    weekly = client.get("/jobs/preview/", {**base, "recurrence": "weekly", "count": 3}).json()
    assert weekly["total"] == 3
    assert weekly["occurrences"][1]["start"] == "2030-12-09T08:00:00+00:00"
    assert weekly["start"] == "2030-12-02T08:00:00+00:00"
    bad = client.get("/jobs/preview/", {**base, "recurrence": "custom", "rrule": "FREQ=NOPE"})
    assert bad.status_code == 400 and "rrule" in bad.json()["errors"]
    assert client.get("/jobs/preview/", {"start": "x"}).status_code == 400


def test_the_job_page_shows_status_reviews_history_and_the_gate(alice, bob, outsider, org):
    job = builders.job(owner=org["infra"], start=soon(4), by=alice)
    maintenance_job_submit(job_id=job.pk, by=alice)
    html = unescape(client_for(outsider).get(f"/jobs/{job.pk}/").content.decode())
    assert "Pending review" in html and "Audit trail" in html
    assert (
        'curl --fail-with-body -H "Authorization: Bearer $CLEARWAY_TOKEN" '
        f"{settings.SITE_URL}/api/v1/jobs/{job.pk}/gate" in html
    )
    assert "No action is open to you" in html
    assert "Your review for Grading" in client_for(bob).get(f"/jobs/{job.pk}/").content.decode()
    assert "Cancel this job" in client_for(alice).get(f"/jobs/{job.pk}/").content.decode()
    assert client_for(alice).get("/jobs/999/").status_code == 404


def test_reviewers_approve_and_reject_with_a_comment(alice, bob, org):
    first = builders.job(owner=org["infra"], start=soon(4), by=alice)
    second = builders.job(owner=org["infra"], start=soon(6), by=alice, systems=("grading-db",))
    for job in (first, second):
        maintenance_job_submit(job_id=job.pk, by=alice)
    reviewer = client_for(bob)
    inbox = reviewer.get("/reviews/").content.decode()
    assert f"#{first.pk} " in inbox and f"#{second.pk} " in inbox
    reviewer.post(f"/jobs/{first.pk}/review/", {"team": "grading", "decision": "approve"})
    reviewer.post(
        f"/jobs/{second.pk}/review/",
        {"team": "grading", "decision": "reject", "comment": "Not in exam week"},
    )
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("approved", "rejected")
    assert "Not in exam week" in client_for(alice).get(f"/jobs/{second.pk}/").content.decode()
    # The requesting team cannot review its own job.
    third = builders.job(owner=org["infra"], start=soon(8), by=alice)
    maintenance_job_submit(job_id=third.pk, by=alice)
    response = client_for(alice).post(
        f"/jobs/{third.pk}/review/", {"team": "grading", "decision": "approve"}, follow=True
    )
    assert "its members cannot review it" in response.content.decode()


def test_the_inbox_is_for_team_members(outsider, carol):
    assert client_for(outsider).get("/reviews/").status_code == 403
    assert "Nothing waits" in client_for(carol).get("/reviews/").content.decode()


def test_editing_reschedules_and_only_the_team_may(alice, bob, org):
    job = builders.job(owner=org["infra"], start=soon(4), by=alice)
    assert client_for(bob).get(f"/jobs/{job.pk}/edit/").status_code == 403
    client = client_for(alice)
    assert client.get(f"/jobs/{job.pk}/edit/").status_code == 200
    moved = soon(5)
    post = job_post(
        start=moved.strftime("%Y-%m-%dT%H:%M"),
        end=(moved + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
    )
    assert client.post(f"/jobs/{job.pk}/edit/", post).status_code == 302
    job.refresh_from_db()
    assert job.start == moved
    bad = client.post(f"/jobs/{job.pk}/edit/", {**post, "recurrence": "weekly", "count": "1"})
    assert "greater than or equal to 2" in error_next_to(bad.content.decode(), "count")


def test_submit_cancel_from_the_job_page(alice, org):
    job = builders.job(owner=org["infra"], start=soon(4), by=alice)
    client = client_for(alice)
    response = client.post(f"/jobs/{job.pk}/submit/", {"emergency": "on"})
    assert "justification" in error_next_to(response.content.decode(), "justification")
    client.post(f"/jobs/{job.pk}/submit/", {})
    client.post(f"/jobs/{job.pk}/cancel/", {"reason": "not needed"})
    job.refresh_from_db()
    assert job.status == "cancelled"
    assert client.post(f"/jobs/{job.pk}/done/").status_code == 302  # refused: told, not a 500


def test_the_freeze_switch_is_for_administrators(alice, pat):
    assert client_for(alice).get("/freeze/").status_code == 200
    assert client_for(alice).post("/freeze/", {"active": "on"}).status_code == 403
    client_for(pat).post("/freeze/", {"active": "on", "reason": "Exam week"})
    assert freeze_get().active
    assert "Change freeze is on" in client_for(alice).get("/").content.decode()


def test_systems_pages(alice):
    assert "grading-api" in client_for(alice).get("/systems/").content.decode()
    assert client_for(alice).get("/systems/grading-db/").status_code == 200
    assert client_for(alice).get("/systems/nope/").status_code == 404


def test_feed_tokens_show_their_addresses_once(alice):
    client = client_for(alice)
    created = client.post("/feed-tokens/", {"name": "Laptop"}).content.decode()
    assert re.search(r"/calendar/cwf_[\w-]+/all\.ics", created)
    listing = client.get("/feed-tokens/").content.decode()
    assert "Laptop" in listing and "cwf_" not in listing
    empty = client.post("/feed-tokens/", {"name": ""})
    assert "required" in error_next_to(empty.content.decode(), "name")
    token = FeedToken.objects.get()
    client.post(f"/feed-tokens/{token.pk}/revoke/")
    token.refresh_from_db()
    assert token.revoked_at is not None


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/?view=month&date=0001-01-01", None),
        ("/?view=timeline&date=9999-12-31", None),
        ("/jobs/preview/?start=2030-13-45T99:99&end=&timezone=Nowhere&count=abc", None),
        (
            "/jobs/preview/?start=2030-12-02T08:00&end=2030-12-02T09:00&timezone=UTC"
            "&recurrence=custom&rrule=FREQ=SECONDLY;COUNT=99999",
            None,
        ),
        ("/jobs/new/", {"team": "grading", "systems": ["nope"], "start": "yesterday"}),
        (
            "/jobs/new/",
            {
                **job_post(),
                "recurrence": "custom",
                "rrule": "FREQ=DAILY;BYMONTHDAY=31;BYMONTH=2;COUNT=3",
            },
        ),
        ("/jobs/new/", {**job_post(), "timezone": "../../etc/passwd"}),
        ("/zone/", {"zone": ""}),
        ("/feed-tokens/", {"name": "x" * 500}),
    ],
)
def test_bad_input_never_gives_a_500(path, data, alice):
    client = client_for(alice)
    response = client.post(path, data) if data is not None else client.get(path)
    assert response.status_code < 500

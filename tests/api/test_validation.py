"""Bad input is a 400 in JSON with a message per field, never a 500."""

import pytest

from deadlines.models import Cohort, Deadline
from scheduling.models import MaintenanceJob
from tests import builders
from tests.builders import at
from tests.personas import as_user
from tests.workflow import job_body

pytestmark = pytest.mark.django_db


def assert_invalid(response, *fields: str) -> dict:
    """A 400 whose JSON names exactly `fields`, each with at least one message."""
    assert response.status_code == 400, (response.status_code, response.content[:300])
    body = response.json()
    assert body["code"] == "invalid"
    assert body["message"]
    assert sorted(body["errors"]) == sorted(fields), body
    for field in fields:
        assert body["errors"][field], field
        assert all(isinstance(m, str) and m for m in body["errors"][field]), body
    return body


# --- jobs -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"end": "2030-12-10T07:00:00Z"}, "end"),
        ({"end": "2030-12-10T08:00:00Z"}, "end"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"rrule": "FREQ=WEEKLY;BYDAY=SU"}, "rrule"),
        ({"rrule": "FREQ=SOMETIMES"}, "rrule"),
        ({"rrule": "FREQ=DAILY;COUNT=100000"}, "rrule"),
        ({"systems": ["grading-db", "no-such-system"]}, "systems"),
        ({"systems": []}, "systems"),
        ({"systems": "grading-db"}, "systems"),
        ({"team": "no-such-team"}, "team"),
        ({"impact": "catastrophic"}, "impact"),
        ({"start": "tomorrow morning"}, "start"),
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
    ],
    ids=lambda value: str(value)[:40],
)
def test_booking_a_job_with_a_bad_field_is_a_400_on_that_field(requester, change, field):
    answer = as_user(requester).post("/api/v1/jobs", job_body(**change), format="json")

    assert_invalid(answer, field)
    assert not MaintenanceJob.objects.exists()


def test_a_booking_with_nothing_in_it_names_every_missing_field(requester):
    answer = as_user(requester).post("/api/v1/jobs", {}, format="json")

    assert_invalid(answer, "title", "team", "systems", "start", "end", "impact")


def test_a_body_that_is_not_json_is_a_400(requester):
    answer = as_user(requester).post(
        "/api/v1/jobs", data='{"title": ', content_type="application/json"
    )

    assert answer.status_code == 400
    assert answer.json()["code"] == "parse_error"


def test_moving_a_jobs_end_before_its_start_is_a_400_and_changes_nothing(requester):
    job = builders.job(by=requester)

    answer = as_user(requester).patch(
        f"/api/v1/jobs/{job.pk}", {"end": "2030-12-10T07:00:00Z"}, format="json"
    )

    assert_invalid(answer, "end")
    assert MaintenanceJob.objects.get(pk=job.pk).end == at(10, 12)


def test_moving_a_job_to_another_team_is_a_400(requester, org):
    job = builders.job(by=requester)

    answer = as_user(requester).patch(f"/api/v1/jobs/{job.pk}", {"team": "grading"})

    assert_invalid(answer, "team")


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        ("0001-01-01T00:00:00Z", "2030-12-10T12:00:00Z", "start"),
        ("2030-12-10T08:00:00Z", "9999-12-31T22:00:00+00:00", "end"),
    ],
)
def test_a_job_at_the_edge_of_time_is_a_400_not_a_500(requester, start, end, field):
    answer = as_user(requester).post("/api/v1/jobs", job_body(start=start, end=end), format="json")

    assert_invalid(answer, field)


def test_an_emergency_without_justification_is_a_400_on_justification(requester):
    job = builders.job(by=requester)

    answer = as_user(requester).post(f"/api/v1/jobs/{job.pk}/submit", {"emergency": True})

    assert_invalid(answer, "justification")


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "team"), ({"team": "no-such-team"}, "team"), ({"team": "Not a slug!"}, "team")],
)
def test_a_review_without_a_known_team_is_a_400(requester, reviewer, body, field):
    job = builders.job(by=requester)

    answer = as_user(reviewer).post(f"/api/v1/jobs/{job.pk}/approve", body, format="json")

    assert_invalid(answer, field)


# --- blackouts ------------------------------------------------------------------


def blackout_body(**overrides) -> dict:
    return {
        "title": "Exam week",
        "team": "platform",
        "start": "2030-12-10T00:00:00Z",
        "end": "2030-12-11T00:00:00Z",
        **overrides,
    }


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"end": "2030-12-09T00:00:00Z"}, "end"),
        ({"timezone": "Nowhere/Special"}, "timezone"),
        ({"systems": ["no-such-system"]}, "systems"),
        ({"severity": "mild"}, "severity"),
        ({"team": "no-such-team"}, "team"),
        ({"rrule": "FREQ=NEVER"}, "rrule"),
        ({"exdates": ["not a date"]}, "exdates"),
        ({"start": "0001-01-01T00:00:00Z"}, "start"),
        ({"exdates": ["2030-12-17T00:00:00Z"]}, "exdates"),
    ],
    ids=lambda value: str(value)[:40],
)
def test_a_blackout_with_a_bad_field_is_a_400_on_that_field(admin, change, field):
    answer = as_user(admin).post("/api/v1/blackouts", blackout_body(**change), format="json")

    assert_invalid(answer, field)


def test_an_open_ended_weekly_blackout_is_fine(admin):
    answer = as_user(admin).post(
        "/api/v1/blackouts", blackout_body(rrule="FREQ=WEEKLY;BYDAY=TU"), format="json"
    )

    assert answer.status_code == 201, answer.json()


# --- deadlines ------------------------------------------------------------------


def deadline_body(**overrides) -> dict:
    return {
        "title": "Project 3",
        "team": "curriculum",
        "cohort_size": 2000,
        "due": "2030-12-12T23:59:00Z",
        "systems": ["grading-api"],
        **overrides,
    }


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"cohort_size": 0}, "cohort_size"),
        ({"cohort_size": "lots"}, "cohort_size"),
        ({"cohort_size": 10**12}, "cohort_size"),
        ({"due": "end of term"}, "due"),
        ({"due": "0001-01-01T00:00:00Z"}, "due"),
        ({"due": "9999-12-31T20:00:00-05:00"}, "due"),
        ({"systems": ["no-such-system"]}, "systems"),
        ({"team": "no-such-team"}, "team"),
        ({"timezone": "Atlantis/Capital"}, "timezone"),
        ({"title": ""}, "title"),
    ],
    ids=lambda value: str(value)[:40],
)
def test_a_deadline_with_a_bad_field_is_a_400_on_that_field(curriculum_staff, change, field):
    answer = as_user(curriculum_staff).post(
        "/api/v1/deadlines", deadline_body(**change), format="json"
    )

    assert_invalid(answer, field)


def test_a_deadline_for_an_unknown_cohort_without_a_size_is_a_400_on_cohort(curriculum_staff):
    body = deadline_body(cohort="CS 2099")
    del body["cohort_size"]

    answer = as_user(curriculum_staff).post("/api/v1/deadlines", body, format="json")

    assert_invalid(answer, "cohort")


def test_a_refused_deadline_for_a_new_cohort_leaves_no_cohort_behind(curriculum_staff):
    body = deadline_body(title="Line 1\nLine 2", cohort="CS 2099", cohort_size=5)

    answer = as_user(curriculum_staff).post("/api/v1/deadlines", body, format="json")

    assert_invalid(answer, "title")
    assert not Cohort.objects.exists()
    assert not Deadline.objects.exists()


def test_a_deadline_retried_after_a_refusal_describes_its_new_cohort(curriculum_staff):
    client = as_user(curriculum_staff)
    client.post(
        "/api/v1/deadlines",
        deadline_body(title="Line 1\nLine 2", cohort="CS 2099", cohort_size=5),
        format="json",
    )

    answer = client.post(
        "/api/v1/deadlines", deadline_body(cohort="CS 2099", cohort_size=1500), format="json"
    )

    assert answer.status_code == 201, answer.json()
    assert Cohort.objects.get(name="CS 2099").size == 1500


def test_emptying_a_deadlines_systems_is_a_400_on_systems(curriculum_staff):
    deadline = builders.deadline(by=curriculum_staff, systems=("grading-api",))

    answer = as_user(curriculum_staff).patch(
        f"/api/v1/deadlines/{deadline.pk}", {"systems": []}, format="json"
    )

    assert "Name the systems" in assert_invalid(answer, "systems")["errors"]["systems"][0]
    assert list(deadline.systems.values_list("slug", flat=True)) == ["grading-api"]


def test_a_deadline_created_with_no_systems_is_a_400_not_the_default_systems(
    curriculum_staff,
):
    body = deadline_body(cohort_size=5) | {"systems": []}

    answer = as_user(curriculum_staff).post("/api/v1/deadlines", body, format="json")

    assert "Name the systems" in assert_invalid(answer, "systems")["errors"]["systems"][0]
    assert not Deadline.objects.exists()


def test_a_deadline_created_without_a_systems_field_hits_the_default_systems(
    curriculum_staff, settings
):
    body = {k: v for k, v in deadline_body(cohort_size=5).items() if k != "systems"}

    answer = as_user(curriculum_staff).post("/api/v1/deadlines", body, format="json")

    assert answer.status_code == 201, answer.json()
    assert sorted(answer.json()["systems"]) == sorted(settings.CLEARWAY_DEFAULT_DEADLINE_SYSTEMS)


# --- catalogue and freeze -------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"slug": "a-team", "name": "A", "email_addresses": ["not-an-address"]}, "email_addresses"),
        ({"slug": "a-team", "name": "A", "webhook_url": "gopher:/x"}, "webhook_url"),
        ({"slug": "a-team", "name": "A", "webhook_url": "ftp://example.org/x"}, "webhook_url"),
        ({"slug": "A Team!", "name": "A"}, "slug"),
        ({"slug": "infra", "name": "Again"}, "slug"),
    ],
    ids=lambda value: str(value)[:40],
)
def test_a_team_with_a_bad_field_is_a_400_on_that_field(admin, body, field):
    assert_invalid(as_user(admin).post("/api/v1/teams", body, format="json"), field)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"team": "no-such-team"}, "team"),
        ({"depends_on": ["no-such-system"]}, "depends_on"),
        ({"depends_on": ["lab-db"]}, "depends_on"),
        ({"maintenance_window": {"rrule": "FREQ=WEEKLY"}}, "maintenance_window"),
        (
            {
                "maintenance_window": {
                    "rrule": "FREQ=WEEKLY;BYDAY=SU",
                    "start_time": "02:00",
                    "duration": "forever",
                    "timezone": "Europe/London",
                }
            },
            "maintenance_window",
        ),
    ],
    ids=lambda value: str(value)[:40],
)
def test_a_system_with_a_bad_field_is_a_400_on_that_field(admin, change, field):
    body = {"slug": "lab-db", "name": "Lab DB", "team": "infra", **change}

    assert_invalid(as_user(admin).post("/api/v1/systems", body, format="json"), field)


def test_a_dependency_cycle_is_a_400_on_depends_on(admin):
    # grading-api depends on grading-db; making grading-db depend on it closes a loop.
    answer = as_user(admin).patch(
        "/api/v1/systems/grading-db", {"depends_on": ["submissions-web"]}, format="json"
    )

    assert_invalid(answer, "depends_on")


def test_renaming_a_system_keeps_its_dependencies(admin):
    answer = as_user(admin).patch(
        "/api/v1/systems/grading-api", {"name": "Grading API"}, format="json"
    )

    assert answer.status_code == 200, answer.json()
    assert answer.json()["depends_on"] == ["grading-db"]


def test_a_freeze_that_is_neither_on_nor_off_is_a_400(admin):
    answer = as_user(admin).put("/api/v1/freeze", {"active": "perhaps"}, format="json")

    assert_invalid(answer, "active")


@pytest.mark.parametrize(
    ("start", "zone"),
    [("2999-12-31T23:00:00", "America/Los_Angeles"), ("2031-03-30T01:30:00", "Europe/London")],
    ids=["year-3000-in-utc", "clocks-skip-it"],
)
def test_a_scheduled_freeze_starting_at_no_usable_instant_is_a_400_on_start(admin, start, zone):
    body = {"reason": "Exams", "start": start, "timezone": zone}

    assert_invalid(as_user(admin).post("/api/v1/freezes", body, format="json"), "start")


@pytest.mark.parametrize(
    "rule",
    ["FREQ=YEARLY;BYMONTH=" + "1" * 5000, "FREQ=MONTHLY;BYDAY=99MO;COUNT=3", "FREQ=DAILY;COUNT=²"],
    ids=["a-5000-digit-part", "a-month-without-a-99th-monday", "a-superscript-count"],
)
def test_a_scheduled_freeze_with_a_rule_no_calendar_reads_is_a_400_on_rrule(admin, rule):
    body = {
        "reason": "Exams",
        "start": "2030-12-10T08:00:00Z",
        "end": "2030-12-10T10:00:00Z",
        "timezone": "UTC",
        "rrule": rule,
    }

    assert_invalid(as_user(admin).post("/api/v1/freezes", body, format="json"), "rrule")


@pytest.mark.parametrize(
    ("start_time", "words"),
    [
        ("01:30+05:00", "without a UTC offset"),
        ("01:30Z", "without a UTC offset"),
        ("01:30:45", "whole minutes"),
    ],
)
def test_an_allowed_window_start_with_an_offset_or_seconds_is_refused_not_dropped(
    admin, start_time, words
):
    window = {"rrule": "FREQ=DAILY", "start_time": start_time, "duration": "PT1H"}
    body = {"maintenance_window": {**window, "timezone": "UTC"}}

    answer = as_user(admin).patch("/api/v1/systems/grading-db", body, format="json")

    assert_invalid(answer, "maintenance_window")
    assert words in str(answer.json()["errors"])


def test_an_allowed_window_start_given_with_zero_seconds_is_kept(admin):
    window = {"rrule": "FREQ=DAILY", "start_time": "01:30:00", "duration": "PT1H"}
    body = {"maintenance_window": {**window, "timezone": "UTC"}}

    answer = as_user(admin).patch("/api/v1/systems/grading-db", body, format="json")

    assert answer.status_code == 200, answer.json()
    assert answer.json()["maintenance_window"]["start_time"] == "01:30"

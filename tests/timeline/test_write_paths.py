"""Every way a calendar changes leaves the stored timeline equal to a full rebuild.

Each test writes the way a user would (API, web form, upload, admin, command,
daily task) and then runs `manage.py rebuild_timeline --check`, which exits
non-zero on any difference. Each also checks that the write reached the
picture at all, so a test cannot pass on an empty timeline.
"""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from blackouts import tasks as blackouts_tasks
from scheduling import tasks as scheduling_tasks
from scheduling.models import TimelineInterval, TimelineKind
from scheduling.services.occurrences import allowed_windows_refresh_all
from scheduling.timeline.services import timeline_differences
from tests import builders
from tests.builders import at
from tests.personas import as_user
from tests.workflow import approved_job

pytestmark = pytest.mark.django_db


def matches_a_rebuild() -> bool:
    call_command("rebuild_timeline", "--check")
    return True


def traffic_on(slug: str) -> list[int]:
    return list(
        TimelineInterval.objects.filter(kind=TimelineKind.TRAFFIC, origin__slug=slug)
        .order_by("start")
        .values_list("load", flat=True)
    )


def test_the_check_exits_non_zero_and_names_a_missing_interval(org):
    builders.deadline(due=at(12, 12), cohort_size=900, systems=["grading-api"])
    TimelineInterval.objects.filter(kind=TimelineKind.TRAFFIC).delete()

    with pytest.raises(CommandError, match="differs"):
        call_command("rebuild_timeline", "--check")
    assert any(line.startswith("missing: traffic") for line in timeline_differences())
    call_command("rebuild_timeline")
    assert timeline_differences() == []


def test_rebuilding_writes_what_the_check_expects(org):
    builders.deadline(due=at(12, 12), cohort_size=900, systems=["grading-api"])
    TimelineInterval.objects.all().delete()

    call_command("rebuild_timeline")

    assert traffic_on("grading-api") == [900]
    assert matches_a_rebuild()


def test_a_deadline_published_moved_and_withdrawn_through_the_api(org, curriculum_staff):
    client = as_user(curriculum_staff)
    body = {
        "title": "Project 3",
        "team": "curriculum",
        "cohort_size": 700,
        "due": "2030-12-12T12:00:00Z",
        "systems": ["grading-api"],
    }
    created = client.post("/api/v1/deadlines", body, format="json")
    assert created.status_code == 201, created.json()
    builders.deadline(due=at(12, 18), cohort_size=400, systems=["grading-api"])
    assert traffic_on("grading-api") == [700, 1100, 400]
    assert matches_a_rebuild()

    moved = client.patch(
        f"/api/v1/deadlines/{created.json()['id']}", {"due": "2030-12-20T12:00:00Z"}, format="json"
    )
    assert moved.status_code == 200, moved.json()
    assert traffic_on("grading-api") == [400, 700]
    assert matches_a_rebuild()

    assert client.delete(f"/api/v1/deadlines/{created.json()['id']}").status_code == 204
    assert traffic_on("grading-api") == [400]
    assert matches_a_rebuild()


def test_deadlines_uploaded_as_csv(org, curriculum_staff):
    csv = (
        "title,cohort_size,due,systems\n"
        "Project 3,2000,2030-12-12T23:59:00Z,grading-api\n"
        "Essay 1,350,2030-12-13T17:00:00Z,grading-api;submissions-web\n"
    )
    answer = as_user(curriculum_staff).post(
        "/api/v1/deadlines/upload",
        {"file": SimpleUploadedFile("d.csv", csv.encode()), "team": "curriculum"},
        format="multipart",
    )

    assert answer.status_code in (200, 201), answer.json()
    assert traffic_on("submissions-web") == [350]
    assert matches_a_rebuild()


def test_a_blackout_from_the_web_form_then_deleted(org, admin, client):
    client.force_login(admin)
    answer = client.post(
        "/blackouts/new/",
        {
            "title": "Exam week",
            "team": "platform",
            "systems": ["grading-db"],
            "start": "2030-12-10T00:00",
            "end": "2030-12-11T00:00",
            "timezone": "UTC",
            "rrule": "",
            "exdates": "",
            "severity": "refuse",
            "reason": "",
        },
    )
    assert answer.status_code == 302, answer.content[:2000]
    blackout = TimelineInterval.objects.get(kind=TimelineKind.BLACKOUT)
    assert matches_a_rebuild()

    pk = blackout.source.split(":")[1]
    assert client.post(f"/blackouts/{pk}/delete/").status_code == 302
    assert not TimelineInterval.objects.filter(kind=TimelineKind.BLACKOUT).exists()
    assert matches_a_rebuild()


def test_a_blackout_deleted_in_the_admin(org, admin_client):
    blackout = builders.blackout(systems=["grading-api"], start=at(10), end=at(11))

    answer = admin_client.post(f"/admin/blackouts/blackout/{blackout.pk}/delete/", {"post": "yes"})
    assert answer.status_code == 302

    assert not TimelineInterval.objects.filter(kind=TimelineKind.BLACKOUT).exists()
    assert matches_a_rebuild()


def test_a_job_approved_then_cancelled(org, requester, reviewer):
    job = approved_job(requester=requester, reviewer=reviewer)
    sources = set(TimelineInterval.objects.values_list("source", flat=True))
    assert f"job:{job.pk}" in sources
    assert matches_a_rebuild()

    as_user(requester).post(f"/api/v1/jobs/{job.pk}/cancel", {}, format="json")

    assert not TimelineInterval.objects.filter(source=f"job:{job.pk}").exists()
    assert matches_a_rebuild()


def test_a_dependency_added_through_the_api_brings_its_traffic(org, admin):
    builders.deadline(due=at(12, 12), cohort_size=900, systems=["reports-db"])
    answer = as_user(admin).patch(
        "/api/v1/systems/grading-api", {"depends_on": ["grading-db", "reports-db"]}, format="json"
    )
    assert answer.status_code == 200, answer.json()

    check = as_user(admin).post(
        "/api/v1/checks",
        {"systems": ["reports-db"], "start": "2030-12-12T10:00:00Z", "end": "2030-12-12T11:00:00Z"},
        format="json",
    )
    assert "grading-api" in check.json()["impacted_systems"]
    assert matches_a_rebuild()


def test_a_dependent_system_deleted_through_the_api_leaves_the_jobs_it_was_impacted_by(
    org, admin, requester, reviewer
):
    job = approved_job(requester=requester, reviewer=reviewer)
    added = as_user(admin).post(
        "/api/v1/systems",
        {"slug": "grading-cache", "name": "Cache", "team": "grading", "depends_on": ["grading-db"]},
        format="json",
    )
    assert added.status_code == 201, added.json()
    assert matches_a_rebuild()

    gone = as_user(admin).delete("/api/v1/systems/grading-cache")
    assert gone.status_code == 204

    # The job's rows (grading-db and its two dependents) no longer name grading-cache.
    rows = TimelineInterval.objects.filter(source=f"job:{job.pk}")
    assert [sorted(row.detail["impacted"]) for row in rows] == [
        ["grading-api", "grading-db", "submissions-web"]
    ] * 3
    assert matches_a_rebuild()


def test_an_allowed_window_set_then_rolled_forward(org, admin, clock):
    answer = as_user(admin).patch(
        "/api/v1/systems/reports-db",
        {
            "maintenance_window": {
                "rrule": "FREQ=WEEKLY;BYDAY=SA",
                "start_time": "22:00",
                "duration": "PT6H",
                "timezone": "Europe/London",
            }
        },
        format="json",
    )
    assert answer.status_code == 200, answer.json()
    assert TimelineInterval.objects.filter(kind=TimelineKind.OUTSIDE_WINDOW).exists()
    assert matches_a_rebuild()

    clock.move_to(at(1, 9) + timedelta(days=3))
    allowed_windows_refresh_all()

    assert matches_a_rebuild()


def _weekly_blackout(admin) -> None:
    """Every Tuesday on every system, refusing; with a 14-day horizon, the 3rd and the 10th."""
    answer = as_user(admin).post(
        "/api/v1/blackouts",
        {
            "title": "Tuesday exams",
            "team": "platform",
            "start": "2030-12-03T00:00:00Z",
            "end": "2030-12-04T00:00:00Z",
            "rrule": "FREQ=WEEKLY",
            "severity": "refuse",
        },
        format="json",
    )
    assert answer.status_code == 201, answer.json()


def blackout_starts() -> list:
    return sorted(
        set(
            TimelineInterval.objects.filter(kind=TimelineKind.BLACKOUT).values_list(
                "start", flat=True
            )
        )
    )


def test_a_recurring_blackout_rolled_on_by_its_own_task(org, admin, clock, settings):
    settings.CLEARWAY_HORIZON_DAYS = 14
    _weekly_blackout(admin)
    clock.move_to(at(12, 3))

    blackouts_tasks.refresh_horizon()

    assert blackout_starts() == [at(3), at(10), at(17), at(24)]
    assert matches_a_rebuild()


def test_a_recurring_blackout_rolled_on_by_the_daily_roll(org, admin, clock, settings):
    settings.CLEARWAY_HORIZON_DAYS = 14
    _weekly_blackout(admin)
    clock.move_to(at(12, 3))

    scheduling_tasks.refresh_horizon()

    assert blackout_starts() == [at(3), at(10), at(17), at(24)]
    assert matches_a_rebuild()


def test_the_freeze_switched_on_reworded_and_off(org, admin):
    client = as_user(admin)
    client.put("/api/v1/freeze", {"active": True, "reason": "exams"}, format="json")
    assert TimelineInterval.objects.get(kind=TimelineKind.FREEZE).message.endswith("exams.")
    client.put("/api/v1/freeze", {"active": True, "reason": "results"}, format="json")
    assert TimelineInterval.objects.get(kind=TimelineKind.FREEZE).message.endswith("results.")
    assert matches_a_rebuild()

    client.put("/api/v1/freeze", {"active": False, "reason": ""}, format="json")

    assert not TimelineInterval.objects.filter(kind=TimelineKind.FREEZE).exists()
    assert matches_a_rebuild()


def test_deferred_refreshes_run_once_and_match_a_rebuild(org):
    from django.db import transaction

    from scheduling.timeline.bulk import timeline_deferred

    with transaction.atomic(), timeline_deferred():
        for day in range(5, 25):
            builders.deadline(due=at(day, 12), cohort_size=300, systems=["grading-api"])
        # Nothing is rewritten until the block ends.
        assert traffic_on("grading-api") == []

    # Windows of 54 hours, a day apart: up to three deadlines overlap.
    assert max(traffic_on("grading-api")) == 900
    assert matches_a_rebuild()


def test_a_bulk_change_rewrites_each_system_only_under_its_own_windows(org):
    from django.db import transaction

    from scheduling.timeline.bulk import timeline_deferred

    builders.deadline(due=at(5, 12), cohort_size=300, systems=["grading-api"])
    builders.deadline(due=at(20, 12), cohort_size=300, systems=["reports-db"])
    kept = set(TimelineInterval.objects.filter(kind=TimelineKind.TRAFFIC).values_list("pk"))

    with transaction.atomic(), timeline_deferred():
        builders.deadline(due=at(6, 12), cohort_size=200, systems=["reports-db"])
        builders.deadline(due=at(21, 12), cohort_size=200, systems=["grading-api"])

    # Each system's old step lies outside its own new window, but inside the other's.
    after = set(TimelineInterval.objects.filter(kind=TimelineKind.TRAFFIC).values_list("pk"))
    assert kept <= after
    assert sorted(traffic_on("grading-api")) == [200, 300]
    assert sorted(traffic_on("reports-db")) == [200, 300]
    assert matches_a_rebuild()


def test_a_bulk_change_next_to_a_step_rewrites_it_as_a_rebuild_would(org):
    from django.db import transaction

    from scheduling.timeline.bulk import timeline_deferred

    builders.deadline(due=at(5, 12), cohort_size=300, systems=["grading-api"])

    with transaction.atomic(), timeline_deferred():
        # Windows run 48 h before the due instant to 6 h after it: these two
        # touch the existing one at either end, and overlap each other's neighbour.
        builders.deadline(due=at(7, 18), cohort_size=300, systems=["grading-api"])
        builders.deadline(due=at(3, 6), cohort_size=300, systems=["grading-api", "reports-db"])

    assert traffic_on("grading-api") == [300, 300, 300]
    assert matches_a_rebuild()


def test_a_system_renamed_through_the_api_keeps_its_traffic(org, admin):
    builders.deadline(due=at(12, 12), cohort_size=900, systems=["grading-api"])

    answer = as_user(admin).patch(
        "/api/v1/systems/grading-api", {"slug": "grading-service"}, format="json"
    )

    assert answer.status_code == 200, answer.json()
    assert traffic_on("grading-service") == [900]
    assert matches_a_rebuild()


def test_a_team_renamed_through_the_api_renames_its_rows(org, admin, requester, reviewer):
    approved_job(requester=requester, reviewer=reviewer)
    builders.deadline(
        due=at(12, 12), cohort_size=900, systems=["grading-api"], owner=org["grading"]
    )
    builders.blackout(systems=["grading-db"], start=at(20), owner=org["infra"])

    answer = as_user(admin).patch(
        "/api/v1/teams/infra", {"name": "Infra operations"}, format="json"
    )

    assert answer.status_code == 200, answer.json()
    assert matches_a_rebuild()


def test_a_team_given_a_new_slug_through_the_api_keeps_its_say(org, admin, requester, reviewer):
    job = approved_job(requester=requester, reviewer=reviewer)
    builders.deadline(
        due=at(12, 12), cohort_size=900, systems=["grading-api"], owner=org["grading"]
    )

    answer = as_user(admin).patch("/api/v1/teams/infra", {"slug": "infrastructure"}, format="json")

    assert answer.status_code == 200, answer.json()
    teams = set(
        TimelineInterval.objects.filter(source=f"job:{job.pk}").values_list("team", flat=True)
    )
    assert teams == {"infrastructure"}
    assert matches_a_rebuild()


def test_a_cohort_renamed_renames_its_deadlines_traffic(org):
    from deadlines.services import cohort_save

    cohort = cohort_save(name="CS 2030", size=900, team=org["curriculum"])
    builders.deadline(due=at(12, 12), cohort=cohort, cohort_size=None, systems=["grading-api"])

    cohort_save(name="Computing 2030", size=900, team=org["curriculum"], cohort=cohort)

    assert matches_a_rebuild()

"""Who may do what: engineers book, reviewers review, curriculum staff publish
deadlines, administrators configure blackouts, systems, teams and the freeze."""

import pytest

from blackouts.models import Blackout
from deadlines.models import Deadline
from scheduling.models import MaintenanceJob, System, Team
from tests import builders
from tests.builders import at
from tests.personas import as_user
from tests.workflow import job_body

pytestmark = pytest.mark.django_db

BLACKOUT = {
    "title": "Exam week",
    "team": "platform",
    "start": "2030-12-10T00:00:00Z",
    "end": "2030-12-11T00:00:00Z",
}
SYSTEM = {"slug": "lab-db", "name": "Lab DB", "team": "infra"}
TEAM = {"slug": "labs", "name": "Labs"}
DEADLINE = {
    "title": "Project 3",
    "cohort_size": 2000,
    "due": "2030-12-12T23:59:00Z",
    "systems": ["grading-api"],
}


def assert_forbidden(response) -> None:
    assert response.status_code == 403, (response.status_code, response.content[:300])
    assert response.json()["code"] == "forbidden"
    assert response.json()["message"]


# --- administrators configure -----------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body"),
    [("blackouts", BLACKOUT), ("systems", SYSTEM), ("teams", TEAM)],
)
def test_only_administrators_create_configuration(requester, admin, path, body):
    refused = as_user(requester).post(f"/api/v1/{path}", body, format="json")
    created = as_user(admin).post(f"/api/v1/{path}", body, format="json")

    assert_forbidden(refused)
    assert created.status_code == 201, created.json()


def test_a_non_administrator_cannot_change_or_remove_a_blackout(requester, org):
    blackout = builders.blackout(start=at(10), end=at(11))
    alice = as_user(requester)

    assert_forbidden(alice.patch(f"/api/v1/blackouts/{blackout.pk}", {"title": "Gone"}))
    assert_forbidden(alice.delete(f"/api/v1/blackouts/{blackout.pk}"))
    assert Blackout.objects.get(pk=blackout.pk).title == "Blackout"


def test_a_non_administrator_cannot_change_a_system_or_a_team(requester, org):
    alice = as_user(requester)

    assert_forbidden(alice.patch("/api/v1/systems/grading-db", {"name": "Mine"}))
    assert_forbidden(alice.patch("/api/v1/teams/infra", {"name": "Mine"}))
    assert_forbidden(alice.delete("/api/v1/systems/reports-db"))
    assert System.objects.get(slug="grading-db").name == "Grading-Db"
    assert Team.objects.get(slug="infra").name == "Infrastructure"


def test_everyone_signed_in_reads_the_configuration(outsider, org):
    olly = as_user(outsider)

    for path in ("blackouts", "systems", "teams", "deadlines", "freeze"):
        assert olly.get(f"/api/v1/{path}").status_code == 200, path


def test_only_administrators_switch_the_freeze(requester, admin):
    refused = as_user(requester).put("/api/v1/freeze", {"active": True}, format="json")
    switched = as_user(admin).put(
        "/api/v1/freeze", {"active": True, "reason": "Audit"}, format="json"
    )

    assert_forbidden(refused)
    assert (switched.json()["active"], switched.json()["by"]) == (True, "pat")


# --- engineers book for their own team ---------------------------------------------


def test_a_non_member_cannot_book_for_a_team(outsider, reviewer):
    for person in (outsider, reviewer):
        assert_forbidden(as_user(person).post("/api/v1/jobs", job_body(), format="json"))
    assert not MaintenanceJob.objects.exists()


def test_a_member_books_for_their_team(requester):
    answer = as_user(requester).post("/api/v1/jobs", job_body(), format="json")

    assert answer.status_code == 201


def test_another_team_cannot_edit_a_job(requester, reviewer):
    job = builders.job(by=requester)

    assert_forbidden(as_user(reviewer).patch(f"/api/v1/jobs/{job.pk}", {"title": "Mine"}))
    assert MaintenanceJob.objects.get(pk=job.pk).title == "Maintenance"


def test_only_administrators_delete_jobs_through_the_api(requester):
    job = builders.job(by=requester)

    answer = as_user(requester).delete(f"/api/v1/jobs/{job.pk}")

    assert_forbidden(answer)
    assert MaintenanceJob.objects.filter(pk=job.pk).exists()


# --- curriculum staff publish deadlines for their team -----------------------------


def test_curriculum_staff_publish_deadlines_for_their_team(curriculum_staff):
    answer = as_user(curriculum_staff).post(
        "/api/v1/deadlines", {**DEADLINE, "team": "curriculum"}, format="json"
    )

    assert answer.status_code == 201, answer.json()
    assert answer.json()["team"] == "curriculum"


def test_curriculum_staff_cannot_publish_for_another_team(curriculum_staff, org):
    answer = as_user(curriculum_staff).post(
        "/api/v1/deadlines", {**DEADLINE, "team": "exams"}, format="json"
    )

    assert_forbidden(answer)
    assert not Deadline.objects.exists()


def test_an_engineer_cannot_publish_a_deadline(requester, org):
    answer = as_user(requester).post(
        "/api/v1/deadlines", {**DEADLINE, "team": "curriculum"}, format="json"
    )

    assert_forbidden(answer)


def test_curriculum_staff_cannot_change_another_teams_deadline(curriculum_staff, org):
    deadline = builders.deadline(owner=org["exams"])
    carol = as_user(curriculum_staff)

    assert_forbidden(carol.patch(f"/api/v1/deadlines/{deadline.pk}", {"cohort_size": 5}))
    assert_forbidden(carol.delete(f"/api/v1/deadlines/{deadline.pk}"))
    stored = Deadline.objects.get(pk=deadline.pk)
    assert (stored.cohort_size, stored.withdrawn_at) == (2000, None)


def test_curriculum_staff_cannot_hand_their_deadline_to_another_team(curriculum_staff, org):
    deadline = builders.deadline(owner=org["curriculum"])

    answer = as_user(curriculum_staff).patch(
        f"/api/v1/deadlines/{deadline.pk}", {"team": "exams"}, format="json"
    )

    assert_forbidden(answer)
    assert Deadline.objects.get(pk=deadline.pk).team == org["curriculum"]


def test_curriculum_staff_withdraw_their_own_deadline(curriculum_staff, org):
    deadline = builders.deadline(owner=org["curriculum"])

    answer = as_user(curriculum_staff).delete(f"/api/v1/deadlines/{deadline.pk}")

    assert answer.status_code == 204
    assert Deadline.objects.get(pk=deadline.pk).withdrawn_at is not None


def test_a_system_a_blackout_or_job_still_names_is_not_deleted(requester, admin, org):
    job = builders.job(systems=["reports-db"], by=requester)
    blackout = builders.blackout(systems=["reports-db"], start=at(20), end=at(21))

    answer = as_user(admin).delete("/api/v1/systems/reports-db")

    assert answer.status_code == 409, answer.content
    assert answer.json()["code"] == "in_use"
    assert "1 maintenance job" in answer.json()["message"]
    assert list(job.systems.values_list("slug", flat=True)) == ["reports-db"]
    assert list(blackout.systems.values_list("slug", flat=True)) == ["reports-db"]


def test_a_system_others_depend_on_is_not_deleted(admin, org):
    answer = as_user(admin).delete("/api/v1/systems/grading-db")

    assert answer.status_code == 409
    assert "systems depending on it" in answer.json()["message"]


def test_a_system_nothing_names_is_deleted(admin, org):
    builders.system("spare-db", owner=org["infra"])

    answer = as_user(admin).delete("/api/v1/systems/spare-db")

    assert answer.status_code == 204
    assert not System.objects.filter(slug="spare-db").exists()

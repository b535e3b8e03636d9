"""POST /api/v1/deadlines/preview: which booked jobs publishing a deadline would change.

The preview is the same engine answer publishing applies: a property test
publishes after previewing, over generated calendars, and compares.
"""

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from deadlines.models import Deadline
from deadlines.preview import deadline_preview
from deadlines.services import deadline_create
from scheduling.errors import Conflict
from scheduling.models import Delivery, JobEvent, MaintenanceJob, ReviewRequest
from scheduling.services.reviews import maintenance_job_review
from scheduling.services.submission import maintenance_job_submit
from scheduling.timeline.services import timeline_rebuild
from tests import builders
from tests.builders import at
from tests.personas import as_user
from tests.workflow import approved_job, pending_job

pytestmark = pytest.mark.django_db(transaction=True)


def body(**overrides) -> dict:
    """Project 3 for 2,000 students on grading-api, due 2030-12-10 23:00 UTC."""
    return {
        "title": "Project 3",
        "team": "curriculum",
        "cohort_size": 2000,
        "due": "2030-12-10T23:00:00Z",
        "systems": ["grading-api"],
        **overrides,
    }


def test_the_preview_names_the_approved_job_a_refusing_deadline_would_conflict(
    requester, reviewer, curriculum_staff
):
    job = approved_job(requester=requester, reviewer=reviewer)

    answer = as_user(curriculum_staff).post("/api/v1/deadlines/preview", body(), format="json")

    assert answer.status_code == 200, answer.json()
    [impact] = answer.json()["jobs"]
    assert (impact["job"], impact["team"], impact["status"], impact["becomes"]) == (
        job.pk,
        "infra",
        "approved",
        "conflicted",
    )
    assert impact["effect"] == "conflicted"
    assert impact["windows"] == [
        {"start": "2030-12-10T08:00:00+00:00", "end": "2030-12-10T12:00:00+00:00"}
    ]
    assert [f["title"] for f in impact["findings"]] == ["Project 3 (2,000 students)"]


def test_the_preview_changes_nothing(requester, reviewer, curriculum_staff):
    job = approved_job(requester=requester, reviewer=reviewer)
    deliveries, events = Delivery.objects.count(), JobEvent.objects.count()

    as_user(curriculum_staff).post("/api/v1/deadlines/preview", body(), format="json")

    assert MaintenanceJob.objects.get(pk=job.pk).status == "approved"
    assert not Deadline.objects.exists()
    assert (Delivery.objects.count(), JobEvent.objects.count()) == (deliveries, events)


def test_a_flagging_deadline_is_previewed_as_back_to_review_with_the_teams_asked(
    requester, reviewer, curriculum_staff
):
    approved_job(requester=requester, reviewer=reviewer)

    answer = as_user(curriculum_staff).post(
        "/api/v1/deadlines/preview", body(cohort_size=500), format="json"
    )

    [impact] = answer.json()["jobs"]
    assert (impact["effect"], impact["becomes"]) == ("back_to_review", "pending")
    assert impact["teams_asked"] == ["curriculum", "grading"]


def test_a_pending_job_is_previewed_with_the_review_it_would_gain(requester, curriculum_staff):
    pending_job(requester=requester)

    answer = as_user(curriculum_staff).post(
        "/api/v1/deadlines/preview", body(cohort_size=500), format="json"
    )

    [impact] = answer.json()["jobs"]
    assert (impact["effect"], impact["teams_asked"]) == ("reviews_requested", ["curriculum"])


def test_a_deadline_far_from_any_job_previews_nothing(requester, reviewer, curriculum_staff):
    approved_job(requester=requester, reviewer=reviewer)

    answer = as_user(curriculum_staff).post(
        "/api/v1/deadlines/preview", body(due="2030-12-20T23:00:00Z"), format="json"
    )

    assert answer.json() == {"jobs": []}


def test_an_invalid_preview_is_the_same_400_as_create(curriculum_staff):
    client = as_user(curriculum_staff)

    preview = client.post("/api/v1/deadlines/preview", body(systems=["nowhere"]), format="json")
    create = client.post("/api/v1/deadlines", body(systems=["nowhere"]), format="json")

    assert preview.status_code == create.status_code == 400
    assert preview.json() == create.json()


def test_only_the_team_may_preview_its_deadline(outsider, org):
    answer = as_user(outsider).post("/api/v1/deadlines/preview", body(), format="json")

    assert answer.status_code == 403


# --- the preview is what publishing does ---------------------------------------

SYSTEMS = ["grading-db", "grading-api", "reports-db"]

booking = st.fixed_dictionaries(
    {
        "system": st.sampled_from(SYSTEMS),
        "day": st.integers(8, 12),
        "hour": st.sampled_from([0, 6, 12, 18]),
        "impact": st.sampled_from(["exclusive_lock", "degraded"]),
        "approve": st.booleans(),
    }
)
deadline = st.fixed_dictionaries(
    {
        "system": st.sampled_from(SYSTEMS),
        "day": st.integers(8, 13),
        "hour": st.integers(0, 23),
        "cohort_size": st.sampled_from([150, 500, 2000]),
    }
)


def _book(plan: dict, *, requester, reviewer) -> None:
    job = builders.job(
        by=requester,
        systems=[plan["system"]],
        start=at(plan["day"], plan["hour"]),
        impact=plan["impact"],
    )
    try:
        maintenance_job_submit(job_id=job.pk, by=requester)
    except Conflict:
        return  # refused: stays a draft, which publishing never changes either
    if plan["approve"] and job.reviews.filter(team__slug="grading").exists():
        maintenance_job_review(job_id=job.pk, team="grading", by=reviewer, approve=True)


def _state() -> dict[int, tuple[str, frozenset]]:
    pending = {}
    for job_id, slug in ReviewRequest.objects.filter(status="pending").values_list(
        "job_id", "team__slug"
    ):
        pending.setdefault(job_id, set()).add(slug)
    return {
        pk: (status, frozenset(pending.get(pk, ())))
        for pk, status in MaintenanceJob.objects.values_list("pk", "status")
    }


@hypothesis_settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(bookings=st.lists(booking, min_size=1, max_size=4), published=deadline)
def test_the_preview_lists_exactly_the_jobs_publishing_then_changes(
    requester, reviewer, curriculum_staff, org, bookings, published
):
    for plan in bookings:
        _book(plan, requester=requester, reviewer=reviewer)
    arguments = {
        "team": org["curriculum"],
        "title": "Generated",
        "due": at(published["day"], published["hour"]) + timedelta(minutes=59),
        "cohort_size": published["cohort_size"],
        "systems": [published["system"]],
        "by": curriculum_staff,
    }
    before = _state()

    previewed = {impact.job_id for impact in deadline_preview(**arguments)}
    deadline_create(**arguments)

    after = _state()
    changed = {
        pk
        for pk, (status, asked) in after.items()
        if status != before[pk][0] or asked - before[pk][1]
    }
    try:
        assert previewed == changed
    finally:
        # Examples share the database: start the next one from an empty calendar.
        Deadline.objects.all().delete()
        MaintenanceJob.objects.all().delete()
        # Bulk deletes bypass the services that keep the stored timeline.
        timeline_rebuild()

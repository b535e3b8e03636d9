"""Deadline services: validation, cohorts, and what a change does to evaluate()."""

from datetime import datetime, timedelta

import pytest

from deadlines.models import Deadline
from deadlines.services import cohort_save, deadline_create, deadline_update, deadline_withdraw
from scheduling import conflicts
from scheduling.errors import InvalidInput
from scheduling.models import MaintenanceJob
from scheduling.text import MESSAGE as ONE_LINE
from scheduling.timeline.services import timeline_refresh_job
from tests import builders
from tests.builders import at


def decision_at(start, systems=("grading-db",), impact="exclusive_lock") -> str:
    return conflicts.evaluate(
        systems=list(systems), start=start, end=start + timedelta(hours=4), impact=impact
    ).decision


def invalid_fields(**kwargs) -> dict[str, list[str]]:
    kwargs = {
        "team": builders.team("curriculum"),
        "title": "Project 3",
        "due": at(12),
        "cohort_size": 2000,
        "systems": ["grading-api"],
        **kwargs,
    }
    with pytest.raises(InvalidInput) as excinfo:
        deadline_create(**kwargs)
    return excinfo.value.fields


# --- validation ----------------------------------------------------------------------------


def test_blank_title_is_an_error_on_title(frozen_now, grading_stack):
    assert list(invalid_fields(title=" ")) == ["title"]


@pytest.mark.parametrize("size", [0, -5, None])
def test_cohort_size_under_one_is_an_error_on_cohort_size(frozen_now, grading_stack, size):
    assert list(invalid_fields(cohort_size=size)) == ["cohort_size"]


def test_due_without_an_offset_is_an_error_on_due(frozen_now, grading_stack):
    assert list(invalid_fields(due=datetime(2030, 12, 12, 23, 59))) == ["due"]


def test_unknown_system_is_an_error_naming_it(frozen_now, grading_stack):
    fields = invalid_fields(systems=["grading-api", "moodle"])

    assert "moodle" in fields["systems"][0]


def test_every_invalid_field_is_reported_at_once(frozen_now, grading_stack):
    fields = invalid_fields(title="", cohort_size=0, systems=["moodle"])

    assert set(fields) == {"title", "cohort_size", "systems"}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        # Stored as given, the course and cohort went into every finding's
        # message (pages, emails, webhooks) over two lines, or read backwards.
        ("course", "CS\r\n101"),
        ("course", "CS 101 \u202e"),
        ("new_cohort_name", "CS 2026\nBcc: x"),
    ],
    ids=["course-line-break", "course-bidi-override", "cohort-line-break"],
)
def test_a_course_or_cohort_that_is_not_one_line_is_an_error_on_it(
    frozen_now, grading_stack, field, value
):
    fields = invalid_fields(**{field: value})

    assert fields == {"cohort" if field == "new_cohort_name" else field: [ONE_LINE]}


def test_invalid_deadline_is_not_saved(frozen_now, grading_stack):
    invalid_fields(cohort_size=0)

    assert not Deadline.objects.exists()


def test_deadline_without_systems_hits_the_default_systems(frozen_now, grading_stack, settings):
    settings.CLEARWAY_DEFAULT_DEADLINE_SYSTEMS = ["submissions-web"]

    deadline = deadline_create(
        team=builders.team("curriculum"), title="Essay", due=at(12), cohort_size=300
    )

    assert list(deadline.systems.values_list("slug", flat=True)) == ["submissions-web"]


def test_invalid_update_is_an_error_and_keeps_the_deadline(frozen_now, grading_stack):
    deadline = builders.deadline(due=at(12), cohort_size=2000)

    with pytest.raises(InvalidInput) as excinfo:
        deadline_update(deadline=deadline, cohort_size=0)

    assert list(excinfo.value.fields) == ["cohort_size"]
    deadline.refresh_from_db()
    assert deadline.cohort_size == 2000


def test_update_of_an_unknown_field_is_refused(frozen_now, grading_stack):
    deadline = builders.deadline(due=at(12))

    with pytest.raises(InvalidInput):
        deadline_update(deadline=deadline, withdrawn_at=at(1))


# --- cohorts ---------------------------------------------------------------------------------


def test_deadline_for_a_cohort_takes_its_size(frozen_now, grading_stack):
    cohort = cohort_save(name="CS 2026", size=2000, team=builders.team("curriculum"))

    deadline = builders.deadline(cohort=cohort, cohort_size=None)

    assert deadline.cohort_size == 2000


def test_resizing_a_cohort_resizes_its_live_deadlines(frozen_now, grading_stack):
    curriculum = builders.team("curriculum")
    cohort = cohort_save(name="CS 2026", size=2000, team=curriculum)
    live = builders.deadline(due=at(12), cohort=cohort, cohort_size=None, title="Project 3")
    withdrawn = builders.deadline(due=at(20), cohort=cohort, cohort_size=None, title="Lab 1")
    deadline_withdraw(deadline=withdrawn)

    cohort_save(name="CS 2026", size=150, team=curriculum, cohort=cohort)

    live.refresh_from_db()
    withdrawn.refresh_from_db()
    assert (live.cohort_size, withdrawn.cohort_size) == (150, 2000)


def test_shrinking_a_cohort_below_the_threshold_clears_its_window(frozen_now, grading_stack):
    curriculum = builders.team("curriculum")
    cohort = cohort_save(name="CS 2026", size=2000, team=curriculum)
    builders.deadline(due=at(12), cohort=cohort, cohort_size=None)

    cohort_save(name="CS 2026", size=150, team=curriculum, cohort=cohort)

    assert decision_at(at(11, 8)) == "clear"


def test_empty_cohort_is_an_error_on_size(frozen_now, grading_stack):
    with pytest.raises(InvalidInput) as excinfo:
        cohort_save(name="Nobody", size=0, team=builders.team("curriculum"))

    assert list(excinfo.value.fields) == ["size"]


# --- what a change does to evaluate() ---------------------------------------------------


def test_published_deadline_refuses_heavy_work_before_it(frozen_now, grading_stack):
    builders.deadline(due=at(12), cohort_size=2000, systems=["submissions-web"])

    assert decision_at(at(11, 8)) == "refuse"


def test_withdrawn_deadline_no_longer_refuses(frozen_now, grading_stack):
    deadline = builders.deadline(due=at(12), cohort_size=2000)

    deadline_withdraw(deadline=deadline)

    assert decision_at(at(11, 8)) == "clear"


def test_withdrawing_twice_keeps_the_first_withdrawal(frozen_now, grading_stack):
    deadline = builders.deadline(due=at(12), cohort_size=2000)
    deadline_withdraw(deadline=deadline, now=at(1, 9))

    deadline_withdraw(deadline=deadline, now=at(1, 10))

    deadline.refresh_from_db()
    assert deadline.withdrawn_at == at(1, 9)


def test_moving_a_deadline_moves_its_traffic_window(frozen_now, grading_stack):
    deadline = builders.deadline(due=at(12), cohort_size=2000)

    deadline_update(deadline=deadline, due=at(20))

    assert decision_at(at(11, 8)) == "clear"
    assert decision_at(at(19, 8)) == "refuse"


def test_growing_a_deadline_cohort_turns_a_flag_into_a_refusal(frozen_now, grading_stack):
    deadline = builders.deadline(due=at(12), cohort_size=500)
    assert decision_at(at(11, 8)) == "flag"

    deadline_update(deadline=deadline, cohort_size=1500)

    assert decision_at(at(11, 8)) == "refuse"


def test_deadline_published_after_approval_refuses_the_approved_job(
    frozen_now, grading_stack, django_capture_on_commit_callbacks
):
    # The incident: the job was clear when approved; the deadline came later.
    job = builders.job(systems=["grading-db"], start=at(11, 8))
    MaintenanceJob.objects.filter(pk=job.pk).update(status="approved")
    # Set past the services, so the stored timeline is told as they would tell it.
    timeline_refresh_job(job_id=job.pk)

    with django_capture_on_commit_callbacks(execute=True):
        builders.deadline(due=at(12), cohort_size=2000, systems=["submissions-web"])

    job.refresh_from_db()
    assert job.decision == "refuse"
    assert "Project 3" in job.findings[0]["message"]


def test_withdrawing_the_deadline_reevaluates_the_job_back_to_clear(
    frozen_now, grading_stack, django_capture_on_commit_callbacks
):
    deadline = builders.deadline(due=at(12), cohort_size=2000)
    job = builders.job(systems=["grading-db"], start=at(11, 8))

    with django_capture_on_commit_callbacks(execute=True):
        deadline_withdraw(deadline=deadline)

    job.refresh_from_db()
    assert (job.decision, job.findings) == ("clear", [])

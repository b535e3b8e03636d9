"""conflicts.evaluate over the real window sources: every calendar, through the database."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from scheduling import conflicts
from scheduling.models import MaintenanceJob
from scheduling.services.calendar import calendar_change_record
from scheduling.services.freeze import freeze_set
from scheduling.timeline.services import timeline_refresh_job
from tests import builders
from tests.builders import at

FOUR_HOURS = timedelta(hours=4)


def check(systems, start, end=None, impact="exclusive_lock", **kwargs):
    return conflicts.evaluate(
        systems=systems, start=start, end=end or start + FOUR_HOURS, impact=impact, **kwargs
    )


def kinds(evaluation) -> list[tuple[str, str]]:
    return [(f.kind, f.severity) for f in evaluation.findings]


def set_status(job, status: str) -> None:
    """Move a job straight to `status`, recording the change as the workflow would."""
    MaintenanceJob.objects.filter(pk=job.pk).update(status=status)
    # Set past the services, so the stored timeline is told as they would tell it.
    timeline_refresh_job(job_id=job.pk)
    calendar_change_record(reason=f"job #{job.pk} -> {status} (test)")


def lagos_sunday_window_system(slug: str = "auth"):
    """Maintenance allowed only on Sundays 02:00-06:00 Africa/Lagos (01:00-05:00 UTC)."""
    return builders.system(
        slug,
        window_rrule="FREQ=WEEKLY;BYDAY=SU",
        window_start_time=time(2),
        window_duration=timedelta(hours=4),
        window_timezone="Africa/Lagos",
    )


# --- dependency closure --------------------------------------------------------------


def test_work_on_grading_db_impacts_its_dependents_transitively(frozen_now, grading_stack):
    evaluation = check(["grading-db"], at(10, 8))

    assert evaluation.impacted == {"grading-db", "grading-api", "submissions-web"}


def test_blackout_on_a_transitive_dependent_refuses_work_on_the_database(frozen_now, grading_stack):
    builders.blackout(systems=["submissions-web"], start=at(10), end=at(11))

    evaluation = check(["grading-db"], at(10, 8))

    assert kinds(evaluation) == [("blackout", "refuse")]
    assert evaluation.findings[0].systems == ("submissions-web",)


def test_deadline_on_submissions_web_refuses_an_exclusive_job_on_grading_db(
    frozen_now, grading_stack
):
    builders.deadline(due=at(12), cohort_size=2000, systems=["submissions-web"])

    evaluation = check(["grading-db"], at(10, 8))

    assert kinds(evaluation) == [("deadline", "refuse")]
    assert evaluation.findings[0].systems == ("submissions-web",)


def test_work_on_a_dependent_does_not_impact_what_it_depends_on(frozen_now, grading_stack):
    builders.blackout(systems=["grading-db"], start=at(10), end=at(11))

    evaluation = check(["submissions-web"], at(10, 8))

    assert evaluation.impacted == {"submissions-web"}
    assert evaluation.decision == "clear"


# --- blackouts ------------------------------------------------------------------------


def test_blackout_on_all_systems_refuses_work_on_an_unrelated_system(frozen_now, grading_stack):
    builders.system("lms-web")
    builders.blackout(systems=[], start=at(10), end=at(11))

    evaluation = check(["lms-web"], at(10, 8))

    assert kinds(evaluation) == [("blackout", "refuse")]


def test_blackout_on_some_systems_leaves_the_others_clear(frozen_now, grading_stack):
    builders.system("lms-web")
    builders.blackout(systems=["grading-api"], start=at(10), end=at(11))

    assert check(["lms-web"], at(10, 8)).decision == "clear"
    assert check(["grading-api"], at(10, 8)).decision == "refuse"


def test_flagging_blackout_flags_the_work(frozen_now, grading_stack):
    builders.blackout(systems=["grading-api"], start=at(10), end=at(11), severity="flag")

    assert kinds(check(["grading-api"], at(10, 8))) == [("blackout", "flag")]


def test_blackout_finding_names_the_blackout_its_reason_and_owner(frozen_now, grading_stack):
    blackout = builders.blackout(
        systems=["grading-api"],
        start=at(10),
        end=at(11),
        title="Exam board reporting",
        reason="Exam boards pull grade reports.",
    )

    [finding] = check(["grading-api"], at(10, 8)).findings

    assert "Exam board reporting" in finding.message
    assert "Exam boards pull grade reports." in finding.message
    assert finding.sources == (f"blackout:{blackout.pk}",)
    assert finding.teams == ("platform",)
    assert (finding.start, finding.end) == (at(10), at(11))


def test_blackout_ending_when_the_work_starts_does_not_collide(frozen_now, grading_stack):
    builders.blackout(systems=["grading-api"], start=at(9), end=at(10, 8))

    assert check(["grading-api"], at(10, 8)).decision == "clear"


# --- deadline traffic ---------------------------------------------------------------------


def test_deadline_finding_names_the_deadline_and_its_students(frozen_now, grading_stack):
    deadline = builders.deadline(due=at(12), cohort_size=2000, systems=["grading-api"])

    [finding] = check(["grading-api"], at(10, 8)).findings

    assert "Project 3" in finding.message
    assert "2,000 students" in finding.message
    assert finding.sources == (f"deadline:{deadline.pk}",)
    assert finding.teams == ("curriculum",)


def test_work_ending_as_the_traffic_window_opens_is_clear(frozen_now, grading_stack):
    builders.deadline(due=at(12, 12), cohort_size=2000, systems=["grading-api"])

    # The window opens 48 hours before the due instant: 2030-12-10 12:00.
    assert check(["grading-api"], at(10, 8), at(10, 12)).decision == "clear"
    assert check(["grading-api"], at(10, 8), at(10, 12, 1)).decision == "refuse"


def test_work_starting_as_the_traffic_window_closes_is_clear(frozen_now, grading_stack):
    builders.deadline(due=at(12, 12), cohort_size=2000, systems=["grading-api"])

    # The window closes 6 hours after the due instant: 2030-12-12 18:00.
    assert check(["grading-api"], at(12, 18)).decision == "clear"
    assert check(["grading-api"], at(12, 17, 59)).decision == "refuse"


def test_traffic_lead_comes_from_settings(frozen_now, grading_stack, settings):
    settings.CLEARWAY_TRAFFIC_LEAD = timedelta(hours=1)
    builders.deadline(due=at(12, 12), cohort_size=2000, systems=["grading-api"])

    assert check(["grading-api"], at(12, 7)).decision == "clear"


def test_traffic_thresholds_come_from_settings(frozen_now, grading_stack, settings):
    settings.CLEARWAY_TRAFFIC_REFUSE = 3000
    builders.deadline(due=at(12), cohort_size=2000, systems=["grading-api"])

    assert kinds(check(["grading-api"], at(10, 8))) == [("deadline", "flag")]


def test_small_cohort_under_the_flag_threshold_is_clear(frozen_now, grading_stack):
    builders.deadline(due=at(12), cohort_size=150, systems=["grading-api"])

    assert check(["grading-api"], at(10, 8)).decision == "clear"


def test_overlapping_deadlines_add_up_to_a_refusal(frozen_now, grading_stack):
    builders.deadline(due=at(12), cohort_size=600, systems=["grading-api"], title="Essay")
    builders.deadline(due=at(12, 12), cohort_size=600, systems=["grading-api"], title="Lab")

    # Only Essay's window covers the morning of the 10th; both cover its afternoon.
    assert check(["grading-api"], at(10, 2)).decision == "flag"
    assert check(["grading-api"], at(10, 14)).decision == "refuse"


def test_degraded_work_is_only_flagged_by_a_large_cohort(frozen_now, grading_stack):
    builders.deadline(due=at(12), cohort_size=2000, systems=["grading-api"])

    assert check(["grading-api"], at(10, 8), impact="degraded").decision == "flag"


def test_work_without_impact_ignores_a_large_cohort(frozen_now, grading_stack):
    builders.deadline(due=at(12), cohort_size=2000, systems=["grading-api"])

    assert check(["grading-api"], at(10, 8), impact="none").decision == "clear"


# --- other maintenance ---------------------------------------------------------------------


def test_pending_exclusive_job_flags_overlapping_work_and_gives_its_team_no_say(
    frozen_now, grading_stack
):
    # Only approved bookings refuse or ask for a review; the first approved wins.
    other = builders.job(systems=["grading-db"], start=at(10, 8), impact="exclusive_lock")
    set_status(other, "pending")

    evaluation = check(["grading-db"], at(10, 10), impact="degraded")

    assert kinds(evaluation) == [("maintenance", "flag")]
    assert evaluation.findings[0].sources == (f"job:{other.pk}",)
    assert evaluation.findings[0].teams == ()


def test_approved_exclusive_job_refuses_overlapping_work(frozen_now, grading_stack):
    other = builders.job(systems=["grading-db"], start=at(10, 8), impact="exclusive_lock")
    set_status(other, "approved")

    evaluation = check(["grading-db"], at(10, 10), impact="degraded")

    assert kinds(evaluation) == [("maintenance", "refuse")]
    assert evaluation.findings[0].teams == ("infra",)


def test_approved_degraded_jobs_only_flag_each_other(frozen_now, grading_stack):
    other = builders.job(systems=["grading-api"], start=at(10, 8), impact="degraded")
    set_status(other, "approved")

    assert kinds(check(["grading-api"], at(10, 10), impact="degraded")) == [("maintenance", "flag")]


def test_approved_light_job_is_refused_by_new_heavy_work(frozen_now, grading_stack):
    other = builders.job(systems=["grading-api"], start=at(10, 8), impact="none")
    set_status(other, "approved")

    assert check(["grading-api"], at(10, 10), impact="downtime").decision == "refuse"


@pytest.mark.parametrize("status", ["draft", "rejected", "cancelled", "done"])
def test_jobs_that_do_not_hold_their_slot_do_not_collide(frozen_now, grading_stack, status):
    other = builders.job(systems=["grading-db"], start=at(10, 8))
    set_status(other, status)

    assert check(["grading-db"], at(10, 8)).decision == "clear"


def test_job_on_the_database_collides_with_work_on_a_dependent(frozen_now, grading_stack):
    other = builders.job(systems=["grading-db"], start=at(10, 8))
    set_status(other, "approved")

    evaluation = check(["submissions-web"], at(10, 10), impact="degraded")

    assert kinds(evaluation) == [("maintenance", "refuse")]
    assert evaluation.findings[0].systems == ("submissions-web",)


def test_job_is_not_compared_with_itself(frozen_now, grading_stack):
    job = builders.job(systems=["grading-db"], start=at(10, 8))
    set_status(job, "approved")

    assert check(["grading-db"], at(10, 8), exclude_job=job.pk).decision == "clear"


def test_jobs_back_to_back_do_not_collide(frozen_now, grading_stack):
    other = builders.job(systems=["grading-db"], start=at(10, 8), end=at(10, 12))
    set_status(other, "approved")

    assert check(["grading-db"], at(10, 12)).decision == "clear"


def test_recurring_booked_job_collides_on_a_later_occurrence(frozen_now, grading_stack):
    other = builders.job(
        systems=["grading-db"], start=at(3, 8), rrule="FREQ=WEEKLY;COUNT=3", impact="degraded"
    )
    set_status(other, "approved")

    assert check(["grading-db"], at(17, 9), impact="degraded").decision == "flag"
    assert check(["grading-db"], at(16, 9), impact="degraded").decision == "clear"


# --- freeze ----------------------------------------------------------------------------------


def test_freeze_refuses_every_job_and_says_why(frozen_now, grading_stack):
    builders.system("lms-web")
    admin = builders.user("ada", staff=True)
    freeze_set(active=True, reason="Results week", by=admin)

    evaluation = check(["lms-web"], at(20, 8), impact="none")

    assert kinds(evaluation) == [("freeze", "refuse")]
    assert "Results week" in evaluation.findings[0].message
    assert "ada" in evaluation.findings[0].message


def test_lifted_freeze_no_longer_refuses(frozen_now, grading_stack):
    admin = builders.user("ada", staff=True)
    freeze_set(active=True, reason="Results week", by=admin)
    freeze_set(active=False, by=admin)

    assert check(["grading-db"], at(20, 8)).decision == "clear"


# --- allowed maintenance windows ----------------------------------------------------------------


def test_work_inside_the_allowed_window_is_clear(frozen_now, grading_stack):
    lagos_sunday_window_system()

    # Sunday 2030-12-08 02:00-06:00 in Lagos (UTC+1).
    assert check(["auth"], at(8, 1), at(8, 5)).decision == "clear"


def test_work_on_a_day_outside_the_allowed_window_is_refused(frozen_now, grading_stack):
    lagos_sunday_window_system()

    evaluation = check(["auth"], at(9, 1), at(9, 5))

    assert kinds(evaluation) == [("outside_window", "refuse")]
    assert evaluation.findings[0].systems == ("auth",)


def test_work_overrunning_the_allowed_window_is_refused_for_the_overrun(frozen_now, grading_stack):
    lagos_sunday_window_system()

    [finding] = check(["auth"], at(8, 3), at(8, 7)).findings

    assert (finding.kind, finding.start, finding.end) == ("outside_window", at(8, 5), at(8, 7))


def test_allowed_window_on_one_system_does_not_restrict_another(frozen_now, grading_stack):
    lagos_sunday_window_system()

    assert check(["grading-db"], at(9, 1)).decision == "clear"


# --- recurring jobs and stored evaluations --------------------------------------------------------


def test_recurring_job_is_refused_for_its_one_colliding_occurrence(frozen_now, grading_stack):
    # Weekly on Tuesdays 3, 10 and 17 December; Project 3's traffic covers only the 10th.
    builders.deadline(due=at(11, 23, 59), cohort_size=2000, systems=["grading-api"])

    job = builders.job(systems=["grading-db"], start=at(3, 8), rrule="FREQ=WEEKLY;COUNT=3")

    job.refresh_from_db()
    assert job.decision == "refuse"
    assert {f["occurrence"] for f in job.findings} == {at(10, 8).isoformat()}


def test_recurring_job_evaluated_directly_tags_findings_with_their_occurrence(
    frozen_now, grading_stack
):
    builders.blackout(systems=["grading-api"], start=at(17), end=at(18), severity="flag")
    occurrences = [(at(day, 8), at(day, 12)) for day in (3, 10, 17)]

    evaluation = check(["grading-db"], at(3, 8), at(17, 12), occurrences=occurrences)

    assert evaluation.decision == "flag"
    assert [f.occurrence for f in evaluation.findings] == [at(17, 8)]


def test_nightly_job_starting_in_the_spring_forward_gap_can_be_booked(frozen_now, grading_stack):
    # 02:30 does not exist in New York on 2031-03-09; that night's window must still be valid.
    new_york = ZoneInfo("America/New_York")

    job = builders.job(
        systems=["grading-api"],
        start=datetime(2031, 3, 7, 2, 30, tzinfo=new_york),
        end=datetime(2031, 3, 7, 3, 15, tzinfo=new_york),
        timezone="America/New_York",
        rrule="FREQ=DAILY;COUNT=5",
        impact="none",
    )

    windows = list(job.occurrences.order_by("start").values_list("start", "end"))
    assert len(windows) == 5
    assert all(end - start == timedelta(minutes=45) for start, end in windows)


def test_created_job_stores_its_decision_findings_and_evaluation_time(frozen_now, grading_stack):
    builders.deadline(due=at(12), cohort_size=2000, systems=["submissions-web"])

    job = builders.job(systems=["grading-db"], start=at(10, 8))

    job.refresh_from_db()
    assert job.decision == "refuse"
    assert [(f["kind"], f["severity"]) for f in job.findings] == [("deadline", "refuse")]
    assert "Project 3" in job.findings[0]["message"]
    assert job.evaluated_at == frozen_now


def test_created_job_with_nothing_in_its_way_is_stored_clear(frozen_now, grading_stack):
    job = builders.job(systems=["grading-db"], start=at(10, 8))

    job.refresh_from_db()
    assert (job.decision, job.findings, job.evaluated_at) == ("clear", [], frozen_now)


# --- the admin ----------------------------------------------------------------------------


def test_the_admin_shows_freezes_but_changes_them_only_through_the_freeze_page(
    frozen_now, grading_stack, admin_client
):
    response = admin_client.post(
        "/admin/scheduling/freeze/add/", {"reason": "Results week", "start": "2030-12-10"}
    )

    # Read-only history: a freeze is scheduled, lifted or called off by the services.
    assert response.status_code == 403
    assert check(["grading-db"], at(10, 8)).decision == "clear"

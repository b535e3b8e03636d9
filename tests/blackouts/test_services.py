"""Blackout services: validation, materialised occurrences, and what a change does to evaluate()."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from blackouts.models import Blackout, BlackoutOccurrence
from blackouts.services import (
    blackout_create,
    blackout_delete,
    blackout_update,
    blackouts_refresh_horizon,
)
from scheduling import conflicts
from scheduling.errors import InvalidInput
from tests import builders
from tests.builders import at

LONDON = ZoneInfo("Europe/London")


def decision_at(start, systems=("grading-api",), impact="exclusive_lock") -> str:
    return conflicts.evaluate(
        systems=list(systems), start=start, end=start + timedelta(hours=4), impact=impact
    ).decision


def invalid_fields(**kwargs) -> dict[str, list[str]]:
    with pytest.raises(InvalidInput) as excinfo:
        builders.blackout(**kwargs)
    return excinfo.value.fields


def occurrence_starts(blackout) -> list[datetime]:
    return list(
        BlackoutOccurrence.objects.filter(blackout=blackout)
        .order_by("start")
        .values_list("start", flat=True)
    )


# --- validation ------------------------------------------------------------------------------


def test_end_before_start_is_an_error_on_end(frozen_now, grading_stack):
    fields = invalid_fields(start=at(10), end=at(9))

    assert list(fields) == ["end"]


def test_end_equal_to_start_is_an_error_on_end(frozen_now, grading_stack):
    assert "end" in invalid_fields(start=at(10), end=at(10))


def test_unknown_zone_is_an_error_on_timezone(frozen_now, grading_stack):
    fields = invalid_fields(timezone="Mars/Olympus_Mons")

    assert "IANA" in fields["timezone"][0]


def test_unknown_system_is_an_error_naming_it(frozen_now, grading_stack):
    with pytest.raises(InvalidInput) as excinfo:
        blackout_create(
            team=builders.team("platform"),
            title="Exams",
            start=at(10),
            end=at(11),
            systems=["grading-api", "no-such-system"],
        )

    assert "no-such-system" in excinfo.value.fields["systems"][0]
    assert "grading-api" not in excinfo.value.fields["systems"][0]


def test_bad_severity_is_an_error_on_severity(frozen_now, grading_stack):
    fields = invalid_fields(severity="block")

    assert list(fields) == ["severity"]


def test_blank_title_is_an_error_on_title(frozen_now, grading_stack):
    assert "title" in invalid_fields(title="  ")


def test_every_invalid_field_is_reported_at_once(frozen_now, grading_stack):
    fields = invalid_fields(title="", severity="block", start=at(10), end=at(9))

    assert set(fields) == {"title", "severity", "end"}


def test_bad_rule_is_an_error_on_rrule(frozen_now, grading_stack):
    assert "rrule" in invalid_fields(rrule="FREQ=WEEKLY;INTERVAL=0")


@pytest.mark.parametrize(
    "exdate, zone",
    [("9999-12-31T23:00", "America/Los_Angeles"), ("0001-01-01T00:00", "Asia/Tokyo")],
    ids=["past-2999", "before-1970"],
)
def test_an_exception_out_of_range_in_the_blackouts_zone_is_an_error_on_exdates(
    frozen_now, grading_stack, exdate, zone
):
    fields = invalid_fields(rrule="FREQ=WEEKLY", timezone=zone, exdates=[exdate])

    assert "between 1970 and 2999" in fields["exdates"][0]


def test_exceptions_on_a_one_off_blackout_are_an_error_on_exdates(frozen_now, grading_stack):
    assert "exdates" in invalid_fields(exdates=[at(10)])


def test_unparseable_exception_is_an_error_on_exdates(frozen_now, grading_stack):
    fields = invalid_fields(rrule="FREQ=WEEKLY", exdates=["next tuesday"])

    assert "next tuesday" in fields["exdates"][0]


def test_an_exception_that_is_no_occurrence_is_an_error_naming_the_nearest(
    frozen_now, grading_stack
):
    fields = invalid_fields(
        start=at(1, 20), end=at(1, 22), rrule="FREQ=WEEKLY", exdates=["2030-12-09T20:00:00Z"]
    )

    assert fields["exdates"] == [
        "2030-12-09 20:00 is not when an occurrence starts; "
        "did you mean Sun 08 Dec 2030 20:00 or Sun 15 Dec 2030 20:00?"
    ]


def test_an_exception_after_the_last_occurrence_is_an_error(frozen_now, grading_stack):
    fields = invalid_fields(
        start=at(1, 20), end=at(1, 22), rrule="FREQ=WEEKLY;COUNT=2", exdates=[at(15, 20)]
    )

    assert "did you mean Sun 08 Dec 2030 20:00?" in fields["exdates"][0]


def test_an_exception_given_as_a_date_is_that_days_occurrence_in_the_blackouts_zone(
    frozen_now, grading_stack, settings
):
    settings.CLEARWAY_HORIZON_DAYS = 30
    start = datetime(2030, 12, 1, 20, tzinfo=LONDON)

    blackout = builders.blackout(
        start=start,
        end=start + timedelta(hours=2),
        timezone="Europe/London",
        rrule="FREQ=WEEKLY",
        exdates=["2030-12-08"],
    )

    assert blackout.exdates == ["2030-12-08T20:00:00+00:00"]
    assert at(8, 20) not in occurrence_starts(blackout)


def test_an_exception_a_wall_clock_day_later_across_a_dst_change_is_an_occurrence(
    frozen_now, grading_stack
):
    # Weekly at 09:00 in New York: the Sunday after 3 Nov 2030 is 14:00 UTC, not 13:00.
    start = datetime(2030, 10, 27, 9, tzinfo=ZoneInfo("America/New_York"))

    blackout = builders.blackout(
        start=start,
        end=start + timedelta(hours=1),
        timezone="America/New_York",
        rrule="FREQ=WEEKLY;COUNT=3",
        exdates=["2030-11-03T09:00:00"],
    )

    assert blackout.exdates == ["2030-11-03T14:00:00+00:00"]


def test_invalid_blackout_is_not_saved(frozen_now, grading_stack):
    invalid_fields(severity="block")

    assert not Blackout.objects.exists()


# --- materialised occurrences ------------------------------------------------------------------


def test_recurring_blackout_is_materialised_up_to_the_horizon(frozen_now, grading_stack, settings):
    settings.CLEARWAY_HORIZON_DAYS = 30

    blackout = builders.blackout(start=at(1, 20), end=at(1, 22), rrule="FREQ=WEEKLY")

    assert occurrence_starts(blackout) == [at(1, 20), at(8, 20), at(15, 20), at(22, 20), at(29, 20)]
    blackout.refresh_from_db()
    assert blackout.materialised_until == frozen_now + timedelta(days=30)


def test_exdates_are_left_out_of_the_materialised_occurrences(frozen_now, grading_stack, settings):
    settings.CLEARWAY_HORIZON_DAYS = 30

    blackout = builders.blackout(
        start=at(1, 20), end=at(1, 22), rrule="FREQ=WEEKLY", exdates=["2030-12-15T20:00:00+00:00"]
    )

    assert occurrence_starts(blackout) == [at(1, 20), at(8, 20), at(22, 20), at(29, 20)]


def test_local_exdate_is_read_in_the_blackouts_zone(frozen_now, grading_stack, settings):
    settings.CLEARWAY_HORIZON_DAYS = 30
    start = datetime(2030, 12, 1, 20, tzinfo=LONDON)

    blackout = builders.blackout(
        start=start,
        end=start + timedelta(hours=2),
        timezone="Europe/London",
        rrule="FREQ=WEEKLY",
        exdates=["2030-12-08T20:00:00"],
    )

    assert at(8, 20) not in occurrence_starts(blackout)
    assert len(occurrence_starts(blackout)) == 4


def test_recurring_blackout_keeps_local_hours_after_a_dst_change(frozen_now, grading_stack):
    # Sundays 09:00-12:00 London, from before to after 2031-03-30 (clocks go forward).
    start = datetime(2031, 3, 23, 9, tzinfo=LONDON)

    blackout = builders.blackout(
        start=start, end=start + timedelta(hours=3), timezone="Europe/London", rrule="FREQ=WEEKLY"
    )

    starts = occurrence_starts(blackout)
    assert starts[:2] == [
        datetime(2031, 3, 23, 9, tzinfo=UTC),
        datetime(2031, 3, 30, 8, tzinfo=UTC),
    ]


def test_refreshing_the_horizon_extends_occurrences(grading_stack, settings):
    settings.CLEARWAY_HORIZON_DAYS = 14

    with time_machine.travel(at(1), tick=False):
        blackout = builders.blackout(start=at(1, 20), end=at(1, 22), rrule="FREQ=WEEKLY")
    with time_machine.travel(at(15), tick=False):
        blackouts_refresh_horizon()

    assert occurrence_starts(blackout)[-1] == at(22, 20)


# --- what a change does to evaluate() ------------------------------------------------------------


def test_blackout_refuses_work_while_it_exists(frozen_now, grading_stack):
    builders.blackout(systems=["grading-api"], start=at(10), end=at(11))

    assert decision_at(at(10, 8)) == "refuse"


def test_moving_a_blackout_clears_its_old_window(frozen_now, grading_stack):
    blackout = builders.blackout(systems=["grading-api"], start=at(10), end=at(11))

    blackout_update(blackout=blackout, start=at(20), end=at(21))

    assert decision_at(at(10, 8)) == "clear"
    assert decision_at(at(20, 8)) == "refuse"


def test_softening_a_blackout_to_flag_flags_the_work(frozen_now, grading_stack):
    blackout = builders.blackout(systems=["grading-api"], start=at(10), end=at(11))

    blackout_update(blackout=blackout, severity="flag")

    assert decision_at(at(10, 8)) == "flag"


def test_narrowing_a_blackout_to_other_systems_clears_the_rest(frozen_now, grading_stack):
    builders.system("lms-web")
    blackout = builders.blackout(systems=[], start=at(10), end=at(11))

    blackout_update(blackout=blackout, systems=["lms-web"])

    assert decision_at(at(10, 8)) == "clear"
    assert decision_at(at(10, 8), systems=["lms-web"]) == "refuse"


def test_adding_an_exception_to_a_recurring_blackout_clears_that_day(frozen_now, grading_stack):
    blackout = builders.blackout(
        systems=["grading-api"], start=at(1, 8), end=at(1, 12), rrule="FREQ=WEEKLY"
    )

    blackout_update(blackout=blackout, exdates=[at(8, 8)])

    assert decision_at(at(8, 8)) == "clear"
    assert decision_at(at(15, 8)) == "refuse"


def test_invalid_update_is_an_error_and_changes_nothing(frozen_now, grading_stack):
    blackout = builders.blackout(systems=["grading-api"], start=at(10), end=at(11))

    with pytest.raises(InvalidInput) as excinfo:
        blackout_update(blackout=blackout, end=at(9))

    assert "end" in excinfo.value.fields
    assert decision_at(at(10, 8)) == "refuse"


def test_deleting_a_blackout_clears_its_window(frozen_now, grading_stack):
    blackout = builders.blackout(systems=["grading-api"], start=at(10), end=at(11))

    blackout_delete(blackout=blackout)

    assert decision_at(at(10, 8)) == "clear"


def test_blackout_added_later_reevaluates_the_booked_job(
    frozen_now, grading_stack, django_capture_on_commit_callbacks
):
    job = builders.job(systems=["grading-db"], start=at(10, 8))

    with django_capture_on_commit_callbacks(execute=True):
        builders.blackout(systems=["submissions-web"], start=at(10), end=at(11))

    job.refresh_from_db()
    assert job.decision == "refuse"
    assert job.findings[0]["kind"] == "blackout"


def test_deleting_a_blackout_reevaluates_the_job_back_to_clear(
    frozen_now, grading_stack, django_capture_on_commit_callbacks
):
    blackout = builders.blackout(systems=["grading-api"], start=at(10), end=at(11))
    job = builders.job(systems=["grading-db"], start=at(10, 8))

    with django_capture_on_commit_callbacks(execute=True):
        blackout_delete(blackout=blackout)

    job.refresh_from_db()
    assert (job.decision, job.findings) == ("clear", [])


def test_blackout_moved_in_the_admin_moves_its_refusal(frozen_now, grading_stack, admin_client):
    blackout = builders.blackout(systems=["grading-api"], start=at(10), end=at(11))
    occurrence = blackout.occurrences.get()

    response = admin_client.post(
        f"/admin/blackouts/blackout/{blackout.pk}/change/",
        {
            "title": blackout.title,
            "reason": "",
            "team": blackout.team_id,
            "systems": list(blackout.systems.values_list("pk", flat=True)),
            "start_0": "2030-12-20",
            "start_1": "00:00:00",
            "end_0": "2030-12-21",
            "end_1": "00:00:00",
            "timezone": "UTC",
            "rrule": "",
            "exdates": "[]",
            "severity": "refuse",
            "occurrences-TOTAL_FORMS": "1",
            "occurrences-INITIAL_FORMS": "1",
            "occurrences-MIN_NUM_FORMS": "0",
            "occurrences-MAX_NUM_FORMS": "0",
            "occurrences-0-id": occurrence.pk,
            "occurrences-0-blackout": blackout.pk,
        },
    )

    assert response.status_code == 302
    blackout.refresh_from_db()
    assert blackout.start == at(20)
    assert (decision_at(at(10, 8)), decision_at(at(20, 8))) == ("clear", "refuse")


def weekly_with_a_stale_exception() -> Blackout:
    """Saved before exceptions were checked: its exception starts no occurrence."""
    blackout = blackout_create(
        team=builders.team("platform"),
        title="Weekly backup",
        start=at(1, 20),
        end=at(1, 22),
        rrule="FREQ=WEEKLY",
        systems=["grading-db"],
    )
    Blackout.objects.filter(pk=blackout.pk).update(exdates=["2030-12-09T20:00:00+00:00"])
    blackout.refresh_from_db()
    return blackout


def test_a_stored_exception_that_is_no_occurrence_does_not_block_a_new_title(
    frozen_now, grading_stack
):
    blackout = weekly_with_a_stale_exception()

    blackout_update(blackout=blackout, title="Weekly full backup")

    blackout.refresh_from_db()
    assert (blackout.title, blackout.exdates) == (
        "Weekly full backup",
        ["2030-12-09T20:00:00+00:00"],
    )


def test_moving_a_blackout_checks_its_stored_exceptions_again(frozen_now, grading_stack):
    blackout = weekly_with_a_stale_exception()

    with pytest.raises(InvalidInput) as excinfo:
        blackout_update(blackout=blackout, start=at(1, 21), end=at(1, 23))

    assert list(excinfo.value.fields) == ["exdates"]

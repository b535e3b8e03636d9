"""A scheduled freeze's times pass the one instant check (scheduling.instants):
the API and the page say what the job, blackout and deadline checks say."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from scheduling.errors import InvalidInput
from scheduling.models import Freeze
from scheduling.services.freeze import freeze_schedule

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")


def invalid_fields(admin, **times) -> dict[str, list[str]]:
    with pytest.raises(InvalidInput) as excinfo:
        freeze_schedule(reason="Exam season", by=admin, **times)
    assert not Freeze.objects.exists()
    return excinfo.value.fields


@pytest.mark.parametrize(
    "start",
    [
        datetime(2999, 12, 31, 23, tzinfo=ZoneInfo("America/Los_Angeles")),
        datetime(1970, 1, 1, 0, tzinfo=ZoneInfo("Asia/Tokyo")),
    ],
    ids=["year-3000-in-utc", "1969-in-utc"],
)
def test_a_start_outside_1970_to_2999_in_utc_is_an_error_on_start(admin, clock, start):
    fields = invalid_fields(admin, start=start, timezone=start.tzinfo.key)

    assert "between 1970 and 2999" in fields["start"][0]


def test_an_end_outside_1970_to_2999_is_an_error_on_end(admin, clock):
    end = datetime(9999, 12, 31, 23, tzinfo=ZoneInfo("America/Los_Angeles"))

    fields = invalid_fields(
        admin, start=datetime(2031, 1, 1, tzinfo=end.tzinfo), end=end, timezone=end.tzinfo.key
    )

    assert "between 1970 and 2999" in fields["end"][0]


def test_a_start_the_clocks_skip_is_an_error_on_start(admin, clock):
    start = datetime(2031, 3, 30, 1, 30, tzinfo=LONDON)

    fields = invalid_fields(
        admin, start=start, end=datetime(2031, 3, 30, 4, tzinfo=LONDON), timezone="Europe/London"
    )

    assert "does not exist in Europe/London" in fields["start"][0]


def test_the_end_is_compared_with_the_start_as_instants_not_wall_times(admin, clock):
    # 01:30 BST, then 01:10 GMT: later, though its wall time is earlier.
    start = datetime(2031, 10, 26, 1, 30, tzinfo=LONDON)
    end = datetime(2031, 10, 26, 1, 10, fold=1, tzinfo=LONDON)

    freeze_schedule(reason="Clocks", start=start, end=end, timezone="Europe/London", by=admin)

    freeze = Freeze.objects.get()
    assert freeze.end - freeze.start == timedelta(minutes=40)

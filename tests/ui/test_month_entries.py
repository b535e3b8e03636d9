"""The month view says when each entry is, in the viewer's zone with the zone named."""

from datetime import UTC, datetime

import pytest

from scheduling.services.submission import maintenance_job_submit
from tests import builders
from tests.ui.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def new_yorker(alice):
    client = client_for(alice)
    client.post("/zone/", {"zone": "America/New_York", "next": "/"})
    return client


def test_a_compact_month_entry_names_its_start_time_and_zone(new_yorker, org, alice):
    job = builders.job(
        owner=org["infra"],
        by=alice,
        title="Vacuum",
        start=datetime(2030, 12, 10, 8, tzinfo=UTC),
        end=datetime(2030, 12, 10, 10, tzinfo=UTC),
        impact="degraded",
    )
    maintenance_job_submit(job_id=job.pk, by=alice)
    html = new_yorker.get("/?view=month&date=2030-12-01").content.decode()

    entry = html[html.index("Vacuum</span>") :][:400]
    assert "03:00 EST" in entry


def test_the_month_view_lists_its_entries_in_full_under_the_month(new_yorker, org, alice):
    job = builders.job(
        owner=org["infra"],
        by=alice,
        title="Vacuum",
        start=datetime(2030, 12, 10, 8, tzinfo=UTC),
        end=datetime(2030, 12, 10, 10, tzinfo=UTC),
        impact="degraded",
    )
    maintenance_job_submit(job_id=job.pk, by=alice)
    html = new_yorker.get("/?view=month&date=2030-12-01").content.decode()

    listing = html[html.index('<ul class="items listing">') :]
    assert "Vacuum" in listing
    assert "Tue 10 Dec 03:00 \u2013 Tue 10 Dec 05:00 EST" in listing

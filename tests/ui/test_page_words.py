"""Pages show every instant in the viewer's zone, named, and rules and statuses as words."""

import pytest

from scheduling.services.submission import maintenance_job_submit
from tests import builders
from tests.ui.conftest import client_for

pytestmark = pytest.mark.django_db


def in_new_york(person):
    client = client_for(person)
    session = client.session
    session["clearway_zone"] = "America/New_York"
    session.save()
    return client


def test_findings_and_gate_text_are_in_the_viewers_zone_with_the_zone_named(alice, org):
    builders.deadline(title="Essay", cohort_size=500, due=builders.at(10, 12))
    job = builders.job(title="Vacuum", by=alice, owner=org["infra"], start=builders.at(10, 8))
    maintenance_job_submit(job_id=job.pk, by=alice)

    html = in_new_york(alice).get(f"/jobs/{job.pk}/").content.decode()

    # Due 2030-12-10 12:00 UTC = 07:00 EST; its window 48 h before to 6 h after.
    assert "is due Tue 10 Dec 2030 07:00 EST" in html
    assert "runs from Sun 8 Dec 2030 07:00 EST to Tue 10 Dec 2030 13:00 EST" in html
    assert "Tue 10 Dec 2030 03:00 EST" in html  # the finding's window, named
    findings = html[
        html.index('class="findings"') : html.index("</ul>", html.index('class="findings"'))
    ]
    assert " UTC" not in findings
    assert "2030-12-" not in html.split('id="gate-title"')[1].split("Gate URL")[0]


def test_a_recurring_blackout_reads_as_words(pat):
    builders.blackout(
        title="Weekend batch",
        start=builders.at(1, 2),
        end=builders.at(1, 6),
        timezone="Europe/London",
        rrule="FREQ=WEEKLY;BYDAY=SU",
    )

    html = client_for(pat).get("/blackouts/").content.decode()

    assert "every Sunday 02:00\N{EN DASH}06:00 London" in html
    assert "<code>FREQ=WEEKLY;BYDAY=SU</code>" not in html


def test_a_system_window_and_its_duration_read_as_words(alice, org):
    from scheduling.services.catalogue import system_save

    system_save(
        slug="reports-db",
        name="Reports DB",
        team=org["infra"],
        window_rrule="FREQ=WEEKLY;BYDAY=SA",
        window_start_time=builders.at(1, 1).time(),
        window_duration=builders.at(1, 5) - builders.at(1, 1),
        window_timezone="Europe/London",
    )

    html = client_for(alice).get("/systems/").content.decode()

    assert "every Saturday 01:00\N{EN DASH}05:00 London" in html
    assert "4:00:00" not in html


def test_job_statuses_use_one_word_on_every_page(alice, org):
    job = builders.job(title="Vacuum", by=alice, owner=org["infra"])
    maintenance_job_submit(job_id=job.pk, by=alice)
    client = client_for(alice)

    listing = client.get("/jobs/").content.decode()
    page = client.get(f"/jobs/{job.pk}/").content.decode()

    assert "Pending review" in listing and "Pending review" in page
    assert ">pending<" not in listing


def test_list_pages_name_the_zone_of_each_instant(alice, org):
    deadline = builders.deadline(title="Essay", due=builders.at(10, 12), owner=org["curriculum"])
    client = in_new_york(alice)

    listing = client.get("/deadlines/").content.decode()
    detail = client.get(f"/deadlines/{deadline.pk}/").content.decode()

    assert "Tue 10 Dec 2030 07:00 EST" in listing
    assert "Tue 10 Dec 2030 07:00 EST" in detail


def test_a_deadline_finding_shows_the_traffic_window_not_the_overlap(alice, org):
    builders.deadline(title="Essay", cohort_size=500, due=builders.at(10, 12))
    job = builders.job(title="Vacuum", by=alice, owner=org["infra"], start=builders.at(10, 8))
    maintenance_job_submit(job_id=job.pk, by=alice)

    html = in_new_york(alice).get(f"/jobs/{job.pk}/").content.decode()

    findings = html[html.index('class="findings"') :]
    findings = findings[: findings.index("</ul>")]
    # The traffic overlaps the job's window (from 03:00 EST): not shown as the finding's window.
    assert "Tue 10 Dec 2030 03:00 EST \N{EN DASH}" not in findings
    assert "runs from Sun 8 Dec 2030 07:00 EST to Tue 10 Dec 2030 13:00 EST" in findings


def test_the_deadline_page_and_list_group_the_cohort_size_with_commas(alice, org):
    deadline = builders.deadline(title="Essay", cohort_size=1500)

    detail = client_for(alice).get(f"/deadlines/{deadline.pk}/").content.decode()
    listing = client_for(alice).get("/deadlines/").content.decode()

    assert "<dd>1,500" in detail and "1500" not in detail
    assert '<td data-label="Students">1,500</td>' in listing

"""The hourly timeline check (operations.tasks.check_timeline) and what /metrics says of it."""

import math

import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from operations.models import TimelineCheck
from operations.tasks import check_timeline
from scheduling.models import TimelineInterval
from tests import builders
from tests.builders import at

pytestmark = pytest.mark.django_db


def timeline_metrics(settings) -> dict[str, float]:
    settings.CLEARWAY_METRICS_TOKEN = "t"
    text = Client(HTTP_AUTHORIZATION="Bearer t").get("/metrics").content.decode()
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name.startswith("clearway_timeline_")
    }


def test_a_timeline_kept_by_the_services_matches_a_rebuild(org, settings, clock):
    builders.deadline(due=at(12, 12), cohort_size=2000)
    builders.blackout(systems=["grading-db"])

    assert check_timeline() == 0
    assert timeline_metrics(settings)["clearway_timeline_differences"] == 0


def test_a_stored_timeline_that_lost_a_row_is_reported(org, settings, clock):
    builders.blackout(systems=["grading-db"])
    TimelineInterval.objects.filter(kind="blackout").first().delete()

    differences = check_timeline()

    assert differences >= 1
    assert "missing: blackout" in TimelineCheck.objects.get().detail
    assert timeline_metrics(settings)["clearway_timeline_differences"] == differences


def test_before_any_check_the_series_say_not_a_number(org, settings):
    values = timeline_metrics(settings)

    assert math.isnan(values["clearway_timeline_differences"])
    assert math.isnan(values["clearway_timeline_check_age_seconds"])


def test_the_check_age_grows_with_time(org, settings, clock):
    check_timeline()
    clock.move_to(at(1, 10))

    assert timeline_metrics(settings)["clearway_timeline_check_age_seconds"] == 3600

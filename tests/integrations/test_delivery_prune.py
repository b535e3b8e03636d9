"""GitHub delivery ids are kept for replay detection, then pruned by the daily task."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from integrations.models import GitHubDelivery
from scheduling.tasks import refresh_horizon

pytestmark = pytest.mark.django_db

NOW = datetime(2030, 12, 1, 3, 0, tzinfo=UTC)


def delivery(delivery_id: str, *, age: timedelta) -> GitHubDelivery:
    return GitHubDelivery.objects.create(
        delivery_id=delivery_id, event="ping", received_at=NOW - age
    )


def test_the_daily_task_deletes_deliveries_older_than_the_setting(settings):
    settings.CLEARWAY_GITHUB_DELIVERIES_KEEP = timedelta(days=30)
    delivery("old", age=timedelta(days=31))
    delivery("recent", age=timedelta(days=29))

    with time_machine.travel(NOW, tick=False):
        refresh_horizon()

    assert list(GitHubDelivery.objects.values_list("delivery_id", flat=True)) == ["recent"]


def test_a_longer_setting_keeps_older_deliveries(settings):
    settings.CLEARWAY_GITHUB_DELIVERIES_KEEP = timedelta(days=90)
    delivery("older", age=timedelta(days=60))

    with time_machine.travel(NOW, tick=False):
        refresh_horizon()

    assert GitHubDelivery.objects.filter(delivery_id="older").exists()

"""The admin lists runs, monitors and observations, read-only, and never shows a DSN."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from operations.models import DatabaseMonitor
from operations.services.monitors import encrypt
from scheduling.models import System

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client(org):
    person = get_user_model().objects.create_superuser("root", "root@example.org", "pw")
    client = Client()
    client.force_login(person)
    return client


def test_the_monitor_admin_page_shows_the_database_but_not_the_dsn(superuser_client):
    monitor = DatabaseMonitor.objects.create(
        system=System.objects.get(slug="grading-db"),
        dsn_encrypted=encrypt("postgresql://monitor:hunter2@db/grading"),
        database="grading",
    )

    page = superuser_client.get(f"/admin/operations/databasemonitor/{monitor.pk}/change/")

    assert page.status_code == 200
    assert "grading" in page.text
    assert "hunter2" not in page.text
    assert monitor.dsn_encrypted not in page.text


@pytest.mark.parametrize("model", ["run", "observation", "databasemonitor"])
def test_the_operations_lists_open_and_nothing_can_be_added(superuser_client, model):
    assert superuser_client.get(f"/admin/operations/{model}/").status_code == 200
    assert superuser_client.get(f"/admin/operations/{model}/add/").status_code == 403

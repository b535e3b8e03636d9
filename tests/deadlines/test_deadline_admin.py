"""The admin withdraws deadlines through the service; it never deletes them."""

import pytest

from deadlines.models import Deadline
from tests import builders

pytestmark = pytest.mark.django_db


def test_the_admin_cannot_delete_a_deadline(admin_client):
    deadline = builders.deadline(title="Essay")

    page = admin_client.post(f"/admin/deadlines/deadline/{deadline.pk}/delete/", {"post": "yes"})
    bulk = admin_client.post(
        "/admin/deadlines/deadline/",
        {"action": "delete_selected", "_selected_action": [deadline.pk], "post": "yes"},
    )

    assert page.status_code == 403
    assert bulk.status_code in (200, 302)
    assert Deadline.objects.filter(pk=deadline.pk, withdrawn_at__isnull=True).exists()


def test_the_admin_action_withdraws_through_the_service(admin_client):
    deadline = builders.deadline(title="Essay")

    admin_client.post(
        "/admin/deadlines/deadline/",
        {"action": "withdraw", "_selected_action": [deadline.pk]},
    )

    deadline.refresh_from_db()
    assert deadline.withdrawn_at is not None
    assert deadline.version == 2  # the service's write, which also announces the change

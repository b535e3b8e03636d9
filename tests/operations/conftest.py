"""The people and clock of the workflow tests, and infra's pipeline with a jobs:run token."""

import pytest
from rest_framework.test import APIClient

from tests.ci.clients import bearer, token_for
from tests.personas import (  # noqa: F401
    admin,
    clock,
    colleague,
    curriculum_staff,
    org,
    outsider,
    requester,
    reviewer,
)


@pytest.fixture
def pipeline(org) -> APIClient:  # noqa: F811 - the org fixture, imported above
    """Infra's deploy pipeline, with a token that may report runs."""
    return bearer(token_for(org["infra"], "gate:read", "jobs:run"))


@pytest.fixture(autouse=True)
def monitored_databases_on_loopback(settings):
    """The watched test databases are on 127.0.0.1, which the default networks refuse."""
    settings.CLEARWAY_MONITOR_ALLOWED_NETWORKS = [
        *settings.CLEARWAY_MONITOR_ALLOWED_NETWORKS,
        "127.0.0.0/8",
        "::1/128",
    ]

import pytest

from tests.personas import (  # noqa: F401
    admin,
    clock,
    colleague,
    curriculum_staff,
    exams_officer,
    org,
    outsider,
    requester,
    reviewer,
)


@pytest.fixture(autouse=True)
def _webhooks_may_reach_loopback(settings):
    """The webhook receivers here listen on 127.0.0.1, which the address guard refuses."""
    settings.CLEARWAY_FEED_ALLOWED_NETWORKS = ["127.0.0.0/8"]

import os

import pytest
import time_machine
from axes.handlers.proxy import AxesProxyHandler
from django.core.cache import cache

from scheduling import window_cache
from tests import builders


@pytest.fixture(autouse=True)
def _isolated(settings):
    settings.CLEARWAY_TASKS_SYNC = True
    # Hashing "pw" a million times per test user is the slowest thing in the suite.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    cache.clear()
    # django-axes keeps its handler, and the cache it was given, for the process;
    # a test that points the caches elsewhere must not leave it to the next.
    AxesProxyHandler.implementation = None
    window_cache.windows.clear()
    window_cache.closures.clear()
    window_cache.jobs.clear()
    window_cache.answers.clear()


@pytest.fixture(autouse=True)
def _timeline_matches_rebuild(request, django_db_blocker):
    """With CLEARWAY_CHECK_TIMELINE=1, every test that used the database ends with a
    stored timeline equal to a full rebuild (what `rebuild_timeline --check` asserts)."""
    yield
    if os.environ.get("CLEARWAY_CHECK_TIMELINE") != "1":
        return
    uses_db = {"db", "transactional_db"} & set(request.fixturenames)
    if not uses_db and request.node.get_closest_marker("django_db") is None:
        return
    from scheduling.timeline.services import timeline_differences

    with django_db_blocker.unblock():
        assert timeline_differences() == []


@pytest.fixture
def grading_stack(db):
    """grading-db <- grading-api <- submissions-web, owned by infra and grading."""
    infra = builders.team("infra", name="Infrastructure")
    grading = builders.team("grading", name="Grading")
    builders.system("grading-db", owner=infra)
    builders.system("grading-api", owner=grading, depends_on=["grading-db"])
    builders.system("submissions-web", owner=grading, depends_on=["grading-api"])
    return {"infra": infra, "grading": grading}


@pytest.fixture
def frozen_now():
    """The clock stopped at 2030-12-01 00:00 UTC (builders.at(1)), a Sunday.

    Request it before fixtures that build data, so occurrences are
    materialised from this instant.
    """
    moment = builders.at(1)
    with time_machine.travel(moment, tick=False):
        yield moment


# Test modules that start servers or processes, or race threads against lock
# timeouts: under pytest-xdist they would compete for the same two cores and
# fail on timing, so `make test` runs them in a second, serial pass.
SERIAL_MODULES = {
    "tests/scheduling/test_concurrency.py",
    "tests/reliability/test_concurrency_matrix.py",
    "tests/reliability/test_contention.py",
    "tests/reliability/test_background.py",
    "tests/reliability/test_schemathesis.py",
    "tests/feeds/test_stored_texts_locks.py",
}


def pytest_collection_modifyitems(config, items):
    """Mark `serial` every browser or live-server test and the modules above."""
    for item in items:
        path = item.nodeid.split("::", 1)[0]
        if (
            path in SERIAL_MODULES
            or item.get_closest_marker("browser")
            or item.get_closest_marker("topology")
            or "live_server" in getattr(item, "fixturenames", ())
        ):
            item.add_marker(pytest.mark.serial)

import pytest
from django.core.cache import cache

from tests import builders


@pytest.fixture(autouse=True)
def _isolated(settings):
    settings.CLEARWAY_TASKS_SYNC = True
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    cache.clear()


@pytest.fixture
def grading_stack(db):
    """grading-db <- grading-api <- submissions-web, owned by infra and grading."""
    infra = builders.team("infra", name="Infrastructure")
    grading = builders.team("grading", name="Grading")
    builders.system("grading-db", owner=infra)
    builders.system("grading-api", owner=grading, depends_on=["grading-db"])
    builders.system("submissions-web", owner=grading, depends_on=["grading-api"])
    return {"infra": infra, "grading": grading}

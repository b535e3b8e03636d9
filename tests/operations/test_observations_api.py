"""GET /api/v1/observations: its filters narrow the list, and a misspelt one is a 400."""

import pytest
from django.utils import timezone

from operations.models import DatabaseMonitor, Observation, ObservationKind
from scheduling.models import System
from tests.personas import as_user

pytestmark = pytest.mark.django_db

URL = "/api/v1/observations"


def seen(slug: str, kind: str, *, unbooked: bool = False) -> Observation:
    system = System.objects.get(slug=slug)
    monitor, _ = DatabaseMonitor.objects.get_or_create(
        system=system, defaults={"dsn_encrypted": "x", "database": "d"}
    )
    now = timezone.now()
    return Observation.objects.create(
        monitor=monitor,
        system=system,
        kind=kind,
        fingerprint=f"{slug}-{kind}",
        first_seen_at=now,
        last_seen_at=now,
        unbooked=unbooked,
    )


def test_the_kind_filter_keeps_that_kind(admin):
    seen("grading-db", ObservationKind.LOCK)
    seen("grading-db", ObservationKind.SATURATION)

    answer = as_user(admin).get(URL, {"kind": "lock"})

    assert [o["kind"] for o in answer.json()] == ["lock"]


@pytest.mark.parametrize("params", [{"kind": "lokc"}, {"unbooked": "yes"}], ids=str)
def test_a_misspelt_filter_is_a_400_naming_it_not_every_observation(admin, params):
    seen("grading-db", ObservationKind.LOCK)

    answer = as_user(admin).get(URL, params)

    assert answer.status_code == 400
    assert list(answer.json()["errors"]) == list(params)


def test_unbooked_true_keeps_only_unbooked_observations(admin):
    seen("grading-db", ObservationKind.LOCK, unbooked=True)
    seen("reports-db", ObservationKind.LOCK)

    answer = as_user(admin).get(URL, {"unbooked": "true"})

    assert [o["system"] for o in answer.json()] == ["grading-db"]

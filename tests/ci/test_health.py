"""/healthz (the process is alive) and /readyz (the database answers, a worker ran lately)."""

import uuid
from datetime import timedelta

import pytest
from django.test import Client
from django_q.models import Success
from django_q.tasks import async_task

from tests.builders import at

pytestmark = pytest.mark.django_db


def heartbeat_at(moment, func="scheduling.tasks.heartbeat"):
    """The row django-q2 writes when a worker has run `func` successfully."""
    Success.objects.create(
        id=uuid.uuid4().hex, name="heartbeat", func=func, started=moment, stopped=moment
    )


def test_healthz_answers_200_without_signing_in():
    response = Client().get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_503_before_any_worker_heartbeat(clock):
    response = Client().get("/readyz")

    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "database": "ok",
        "worker": "no heartbeat yet",
    }


def test_readyz_is_200_once_a_worker_ran_the_heartbeat(clock):
    async_task("scheduling.tasks.heartbeat", sync=True)

    response = Client().get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "worker": "ok"}


def test_readyz_is_503_when_the_last_heartbeat_is_too_old(clock):
    heartbeat_at(at(1, 9) - timedelta(minutes=6))

    response = Client().get("/readyz")

    assert response.status_code == 503
    assert response.json()["worker"] == "silent since 2030-12-01 08:54 UTC"


def test_readyz_counts_only_the_heartbeat_task(clock):
    heartbeat_at(at(1, 9), func="scheduling.tasks.reevaluate_jobs")

    assert Client().get("/readyz").status_code == 503


def test_health_answers_are_never_cached(clock):
    heartbeat_at(at(1, 9))

    for path in ("/healthz", "/readyz"):
        assert "no-cache" in Client().get(path)["Cache-Control"]

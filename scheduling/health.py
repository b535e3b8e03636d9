"""Health endpoints for load balancers: /healthz (alive) and /readyz (can serve)."""

from datetime import timedelta

from django.conf import settings
from django.core.cache import caches
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache

WORKER_SILENCE = timedelta(minutes=5)


@never_cache
def healthz(request):
    return JsonResponse({"status": "ok"})


@never_cache
def readyz(request):
    """The database answers, a django-q2 worker ran a task recently, and the
    shared cache (when CACHE_URL is set) answers."""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except DatabaseError as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    checks["worker"] = _worker_state()
    if _shared_cache():
        checks["cache"] = _cache_state()
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", **checks}, status=200 if ready else 503
    )


def _shared_cache() -> bool:
    """Whether CACHE_URL put the caches on Redis (per-process memory needs no check)."""
    return settings.CACHES["default"]["BACKEND"].endswith("RedisCache")


def _cache_state() -> str:
    """The shared cache answers: without it throttles and sign-ins answer 503."""
    try:
        caches["default"].get("readyz-probe")
    except Exception as exc:  # any failure means not ready
        return f"error: {type(exc).__name__}"
    return "ok"


def _worker_state() -> str:
    from django_q.models import Success

    try:
        last = (
            Success.objects.filter(func="scheduling.tasks.heartbeat").order_by("-stopped").first()
        )
    except DatabaseError:
        return "unknown"
    if last is None:
        return "no heartbeat yet"
    if timezone.now() - last.stopped > WORKER_SILENCE:
        return f"silent since {last.stopped:%Y-%m-%d %H:%M} UTC"
    return "ok"

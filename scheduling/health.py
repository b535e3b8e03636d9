"""Health endpoints for load balancers: /healthz (alive) and /readyz (can serve)."""

from datetime import timedelta

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
    """The database answers, and a django-q2 worker ran a task recently."""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except DatabaseError as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    checks["worker"] = _worker_state()
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", **checks}, status=200 if ready else 503
    )


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

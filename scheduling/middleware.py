"""A busy database answers 503 with Retry-After, never a 500 or a hang."""

import logging

from django.http import HttpResponse, JsonResponse

from scheduling.db import is_busy

logger = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 5


def busy_response(request) -> HttpResponse:
    message = "Clearway's database is busy; try again in a few seconds."
    if request.path.startswith("/api/") or "json" in request.headers.get("Accept", ""):
        response = JsonResponse({"code": "busy", "message": message}, status=503)
    else:
        response = HttpResponse(message, status=503, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class DatabaseBusyMiddleware:
    """Outermost, so it also covers sessions and authentication reaching the database."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            return self.get_response(request)
        except Exception as exc:
            if is_busy(exc):
                logger.warning("database busy on %s: %s", request.path, exc)
                return busy_response(request)
            raise

    def process_exception(self, request, exception):
        if is_busy(exception):
            logger.warning("database busy on %s: %s", request.path, exception)
            return busy_response(request)
        return None

"""A busy database answers 503 with Retry-After, never a 500 or a hang."""

import logging

from django.contrib.sessions import middleware
from django.contrib.sessions.exceptions import SessionInterrupted
from django.http import HttpResponse, JsonResponse

from scheduling.db import BUSY_BODY, BUSY_HEADERS, is_busy

logger = logging.getLogger(__name__)


def busy_response(request) -> HttpResponse:
    if request.path.startswith("/api/") or "json" in request.headers.get("Accept", ""):
        return JsonResponse(BUSY_BODY, status=503, headers=BUSY_HEADERS)
    return HttpResponse(
        BUSY_BODY["message"],
        status=503,
        content_type="text/plain; charset=utf-8",
        headers=BUSY_HEADERS,
    )


def _busy_cause(exc: BaseException | None) -> bool:
    """Whether a busy database is somewhere in the exception's chain."""
    while exc is not None:
        if is_busy(exc):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


class DatabaseBusyMiddleware:
    """Turns a busy database met by a view into 503 with Retry-After.

    Django turns an exception raised in another middleware into a response
    at that layer, so this only sees views; saving the session is handled by
    SessionMiddleware below.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if is_busy(exception):
            logger.warning("database busy on %s: %s", request.path, exception)
            return busy_response(request)
        return None


class SessionMiddleware(middleware.SessionMiddleware):
    """Django's, except that a session that cannot be saved because the database
    is busy answers 503 (try again), not 400 ("session interrupted")."""

    def process_response(self, request, response):
        try:
            return super().process_response(request, response)
        except SessionInterrupted as exc:
            if _busy_cause(exc):
                logger.warning("database busy saving the session on %s", request.path)
                return busy_response(request)
            raise

"""`Idempotency-Key` on every API request that creates or changes something.

It sits in the middleware rather than in each view, so every endpoint under
/api/v1/ (present and future) gets it: a retry with the same key and body
replays the first answer and runs nothing; see `idempotency.services`.
"""

import codecs
import hashlib
import logging

from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError
from django.http import HttpResponse, JsonResponse, QueryDict
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.utils.datastructures import MultiValueDict
from rest_framework import exceptions
from rest_framework.parsers import BaseParser, DataAndFiles
from rest_framework.request import Request
from rest_framework.settings import api_settings

from idempotency.services import (
    HEADER,
    Answer,
    idempotency_key_answer,
    idempotency_key_claim,
    idempotency_key_release,
)
from scheduling.db import is_busy
from scheduling.errors import DomainError
from scheduling.middleware import busy_response
from scheduling.models import ApiToken

logger = logging.getLogger(__name__)

API_PREFIX = "/api/v1/"
CHANGING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_KEY_LENGTH = 255
# Answers that come before the operation runs or from a failure change
# nothing, so they are not kept: a retry runs again (after signing in, once
# the throttle allows, once the database answers). A closed gate (423)
# changed nothing either: a CI job retried with the same key once its window
# opens must be asked again, not told "closed" from before.
NOT_KEPT = frozenset({401, 403, 408, 423, 429})
REPLAYED_HEADERS = ("Content-Type", "Location", "Cache-Control", "Retry-After")


class IdempotencyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key = request.headers.get(HEADER)
        if (
            key is None
            or request.method not in CHANGING_METHODS
            or not request.path.startswith(API_PREFIX)
            or not _accepts(request)
        ):
            return self.get_response(request)
        try:
            return self._handle(request, key)
        except DomainError as exc:
            return error_response(exc)
        except DatabaseError as exc:
            if is_busy(exc):
                return busy_response(request)
            raise

    def _handle(self, request, key: str):
        if not 1 <= len(key) <= MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
            raise DomainError.for_field(
                HEADER, f"An {HEADER} is 1 to {MAX_KEY_LENGTH} printable ASCII characters."
            )
        caller = _caller(request)
        if caller is None:
            # Not signed in (or a bad token): the view answers 401/403 and changes nothing.
            return self.get_response(request)
        try:
            fingerprint = _fingerprint(request)
        except RequestDataTooBig as exc:
            raise DomainError("The request body is too large.", code="too_large") from exc
        claim = idempotency_key_claim(
            caller=caller, key=key, fingerprint=fingerprint, now=timezone.now()
        )
        if isinstance(claim, Answer):
            return _replay(claim)
        try:
            response = self.get_response(request)
        except BaseException:
            idempotency_key_release(claim=claim)
            raise
        if response.status_code >= 500 or response.status_code in NOT_KEPT or response.streaming:
            idempotency_key_release(claim=claim)
            return response
        if hasattr(response, "render") and not response.is_rendered:
            response.render()
        idempotency_key_answer(
            claim=claim,
            key=key,
            answer=Answer(
                status_code=response.status_code,
                headers={name: response[name] for name in REPLAYED_HEADERS if name in response},
                body=response.content,
            ),
        )
        return response


def _accepts(request) -> bool:
    """Whether the view at this path takes this method. One that it answers 405
    (or 404) changes nothing, so no key is claimed or compared for it."""
    try:
        view = resolve(request.path_info).func
    except Resolver404:
        return False
    method = request.method.lower()
    cls = getattr(view, "cls", None) or getattr(view, "view_class", None)
    if cls is None:
        return True
    if method not in cls.http_method_names:
        return False
    actions = getattr(view, "actions", None)  # a DRF viewset: method -> action
    return method in actions if actions is not None else hasattr(cls, method)


def error_response(exc: DomainError) -> JsonResponse:
    """The API's error shape (scheduling.api.errors) for errors met before any view."""
    body = {"code": exc.code, "message": exc.message}
    if exc.fields:
        body["errors"] = exc.fields
    body.update(exc.details)
    response = JsonResponse(body, status=exc.status)
    if exc.status == 409:
        response["Retry-After"] = "1"
    return response


class _BodyLeftAlone(BaseParser):
    """What a session's CSRF check reads as `request.POST` while the caller is found.

    Without a parser that check failed on every JSON body (415), which signed
    the session out for the view behind it: a 401 for any signed-in request
    with a key. A form's fields come from Django, which parses them once.
    """

    media_type = "*/*"

    def parse(self, stream, media_type=None, parser_context=None):
        request = parser_context["request"]._request
        if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            return DataAndFiles(request.POST, request.FILES)
        return DataAndFiles(QueryDict(), MultiValueDict())


def _caller(request) -> str | None:
    """Who sent the request, found by the API's own authenticators (tokens, sessions)."""
    drf_request = Request(
        request,
        parsers=[_BodyLeftAlone()],
        authenticators=[auth() for auth in api_settings.DEFAULT_AUTHENTICATION_CLASSES],
    )
    signed_in = getattr(request, "user", None)
    try:
        user, token = drf_request.user, drf_request.auth
    except exceptions.APIException:
        # DRF signs the Django request out when a check fails (a missing CSRF
        # token); the view must see the session and answer its own 403.
        if signed_in is not None:
            request.user = signed_in
        return None
    if isinstance(token, ApiToken):
        return f"token:{token.pk}"
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return None


def _fingerprint(request) -> str:
    """What makes two requests the same: method, path with query, and body.

    A multipart body is read as its fields and files, because every client
    draws a new random boundary for each attempt.
    """
    fingerprint = hashlib.sha256()
    # Every API path answers with or without its trailing slash: one request.
    path = request.path.rstrip("/")
    query = request.META.get("QUERY_STRING", "")
    fingerprint.update(f"{request.method} {path}?{query}\0".encode())
    if request.content_type == "multipart/form-data":
        for name in sorted(request.POST):
            for value in request.POST.getlist(name):
                fingerprint.update(f"field\0{name}\0{value}\0".encode())
        for name in sorted(request.FILES):
            for upload in request.FILES.getlist(name):
                fingerprint.update(f"file\0{name}\0{upload.name}\0".encode())
                for chunk in upload.chunks():
                    fingerprint.update(chunk)
                upload.seek(0)
    else:
        # The charset too: the same bytes under another charset say something else.
        fingerprint.update(f"{request.content_type}\0{_charset(request)}\0".encode())
        fingerprint.update(request.body)
    return fingerprint.hexdigest()


def _charset(request) -> str:
    """The declared charset, spelled one way ("UTF8" and "utf-8" are one charset)."""
    charset = request.content_params.get("charset", "")
    try:
        return codecs.lookup(charset).name
    except LookupError:
        return charset.lower()


def _replay(answer: Answer) -> HttpResponse:
    response = HttpResponse(answer.body, status=answer.status_code)
    for name, value in answer.headers.items():
        response[name] = value
    response["Idempotent-Replayed"] = "true"
    return response

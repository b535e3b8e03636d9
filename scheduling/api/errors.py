"""The API's one exception handler: every error is JSON with a message per field."""

import logging
from typing import Any

from django.core.exceptions import (
    PermissionDenied,
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from scheduling.db import BUSY_BODY, BUSY_HEADERS, is_busy
from scheduling.errors import DomainError

logger = logging.getLogger(__name__)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if is_busy(exc):
        request = context.get("request")
        logger.warning("database busy on %s: %s", getattr(request, "path", "?"), exc)
        return Response(BUSY_BODY, status=status.HTTP_503_SERVICE_UNAVAILABLE, headers=BUSY_HEADERS)
    if isinstance(exc, DataError):
        return _unstorable()
    if isinstance(exc, ProtectedError | RestrictedError):
        return _in_use(exc)
    if isinstance(exc, DomainError):
        return _domain(exc)
    if isinstance(exc, RequestDataTooBig | TooManyFieldsSent | TooManyFilesSent):
        return _too_large(exc)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    response = drf_exception_handler(exc, context)
    if response is not None:
        response.data = _flat(exc, response)
    return response


def _unstorable() -> Response:
    # PostgreSQL's "data exception" (SQLSTATE class 22): a value that passed
    # the serializers but that the database cannot compare or store, such as
    # a NUL character in a slug SlugRelatedField looks up (schemathesis found
    # it). Bad input, so a 400 and not a 500.
    return Response(
        {
            "code": "invalid",
            "message": "The request holds a value Clearway cannot store, such as a NUL character.",
        },
        status=status.HTTP_400_BAD_REQUEST,
    )


def _too_large(exc: Exception) -> Response:
    # Django refuses a body past DATA_UPLOAD_MAX_MEMORY_SIZE (or with too many
    # fields or files) while DRF reads it; left alone, that is its HTML 400 page.
    what = "body" if isinstance(exc, RequestDataTooBig) else "number of fields or files"
    return Response(
        {"code": "too_large", "message": f"The request's {what} is too large."},
        status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    )


def _in_use(exc: ProtectedError | RestrictedError) -> Response:
    # Deleting a team that still owns systems, jobs or deadlines: the
    # database refuses, and that is a conflict with the current state,
    # not a 500 (schemathesis deleted a team in use).
    used_by = getattr(exc, "protected_objects", None) or exc.restricted_objects
    kinds = sorted({str(obj._meta.verbose_name_plural) for obj in used_by})
    return Response(
        {
            "code": "in_use",
            "message": f"It is still used by {', '.join(kinds)}; remove or move them first.",
        },
        status=status.HTTP_409_CONFLICT,
    )


def _domain(exc: DomainError) -> Response:
    body: dict[str, Any] = {"code": exc.code, "message": exc.message}
    if exc.fields:
        body["errors"] = exc.fields
    body.update(exc.details)
    return Response(body, status=exc.status)


def _flat(exc: Exception, response: Response) -> dict[str, Any]:
    """DRF's answer in the one error shape: a stable code, a message, fields."""
    if isinstance(exc, exceptions.ValidationError):
        errors = (
            response.data
            if isinstance(response.data, dict)
            else {"non_field_errors": response.data}
        )
        return {
            "code": "invalid",
            "message": "The request is not valid.",
            "errors": {field: _messages(value) for field, value in errors.items()},
        }
    if isinstance(exc, Http404 | exceptions.NotFound):
        return {"code": "not_found", "message": "Not found."}
    if isinstance(exc, PermissionDenied | exceptions.PermissionDenied):
        return {"code": "forbidden", "message": _detail(response.data)}
    if response.status_code == status.HTTP_401_UNAUTHORIZED:
        return {"code": "not_authenticated", "message": _detail(response.data)}
    return {"code": getattr(exc, "default_code", "error"), "message": _detail(response.data)}


def _messages(value: Any, prefix: str = "") -> list[str]:
    """A field's messages as the flat list of sentences the schema promises.

    DRF nests a list's errors by position ({"0": [...]}) and a nested
    serializer's by field; schemathesis caught {"systems": {"0": [...]}}.
    """
    if isinstance(value, dict):
        return [
            message
            for key, inner in value.items()
            for message in _messages(
                inner,
                f"{prefix}item {int(key) + 1}: " if str(key).isdecimal() else f"{prefix}{key}: ",
            )
        ]
    if isinstance(value, list | tuple):
        return [message for inner in value for message in _messages(inner, prefix)]
    return [f"{prefix}{value}"]


def _detail(data: Any) -> str:
    if isinstance(data, dict) and "detail" in data:
        return str(data["detail"])
    return str(data)

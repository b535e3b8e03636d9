"""The API's one exception handler: every error is JSON with a message per field."""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from scheduling.db import is_busy
from scheduling.errors import DomainError
from scheduling.middleware import RETRY_AFTER_SECONDS


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if is_busy(exc):
        return Response(
            {"code": "busy", "message": "Clearway's database is busy; try again in a few seconds."},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    if isinstance(exc, DomainError):
        body: dict[str, Any] = {"code": exc.code, "message": exc.message}
        if exc.fields:
            body["errors"] = exc.fields
        body.update(exc.details)
        return Response(body, status=exc.status)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = (
            response.data
            if isinstance(response.data, dict)
            else {"non_field_errors": response.data}
        )
        response.data = {
            "code": "invalid",
            "message": "The request is not valid.",
            "errors": errors,
        }
    elif isinstance(exc, (Http404, exceptions.NotFound)):
        response.data = {"code": "not_found", "message": "Not found."}
    elif isinstance(exc, (PermissionDenied, exceptions.PermissionDenied)):
        response.data = {"code": "forbidden", "message": _detail(response.data)}
    elif response.status_code == status.HTTP_401_UNAUTHORIZED:
        response.data = {"code": "not_authenticated", "message": _detail(response.data)}
    else:
        response.data = {
            "code": getattr(exc, "default_code", "error"),
            "message": _detail(response.data),
        }
    return response


def _detail(data: Any) -> str:
    if isinstance(data, dict) and "detail" in data:
        return str(data["detail"])
    return str(data)

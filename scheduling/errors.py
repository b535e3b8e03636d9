"""One family of domain errors, mapped to HTTP once (scheduling.api.errors).

The same message reaches the page, the API answer and the notification.
"""

from typing import Any, Self


class DomainError(Exception):
    status = 400
    code = "invalid"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        fields: dict[str, list[str]] | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.fields = fields or {}
        self.details = details or {}

    @classmethod
    def for_field(cls, field: str, message: str, **kwargs: Any) -> Self:
        return cls(message, fields={field: [message]}, **kwargs)


class InvalidInput(DomainError):
    status = 400
    code = "invalid"


class NotAllowed(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"

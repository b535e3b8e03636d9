"""The `Idempotency-Key` header and its 409/422 answers in the OpenAPI schema.

The middleware (idempotency.middleware) serves every write under /api/v1/,
so a postprocessing hook documents it on every write rather than each view.
"""

from idempotency.middleware import API_PREFIX, CHANGING_METHODS, MAX_KEY_LENGTH
from idempotency.services import HEADER

_WRITES = {method.lower() for method in CHANGING_METHODS}
_PARAMETER = {
    "in": "header",
    "name": HEADER,
    "required": False,
    "description": (
        "Any unique string (a UUID) chosen by the client for this request. A retry with "
        "the same key, method, path and body replays the first answer (with "
        "`Idempotent-Replayed: true`) and changes nothing; keys belong to the caller and "
        "are kept 24 h."
    ),
    "schema": {
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_KEY_LENGTH,
        "pattern": "^[ -~]+$",
    },
}
_ERROR = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
_IN_PROGRESS = (
    "A request with this Idempotency-Key is still running (`in_progress`, with Retry-After)."
)
_REUSED = "This Idempotency-Key was already used with another method, path or body."
_MALFORMED = f"The {HEADER} is not 1 to {MAX_KEY_LENGTH} printable ASCII characters."


def add_idempotency_key(result, generator, request, public):
    """Give every write under /api/v1/ the header and the answers it adds."""
    for path, operations in result.get("paths", {}).items():
        if not path.startswith(API_PREFIX):
            continue
        for method, operation in operations.items():
            if method not in _WRITES:
                continue
            operation.setdefault("parameters", []).append(dict(_PARAMETER))
            responses = operation.setdefault("responses", {})
            if "409" in responses:  # a state conflict too (scheduling.api.schema)
                responses["409"]["description"] += f" Or: {_IN_PROGRESS}"
            else:
                responses["409"] = {"description": _IN_PROGRESS, **_ERROR}
            responses.setdefault("422", {"description": _REUSED, **_ERROR})
            if "400" in responses:
                responses["400"]["description"] += f" Or: {_MALFORMED}"
            else:
                responses["400"] = {"description": _MALFORMED, **_ERROR}
    return result

"""OpenAPI details drf-spectacular cannot infer: the bearer scheme and error shapes."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension

ERROR_SCHEMA = {
    "type": "object",
    "description": "Every error: a code, a sentence, and a message per field when input was bad.",
    "properties": {
        "code": {"type": "string", "example": "invalid"},
        "message": {"type": "string", "example": "The request is not valid."},
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "example": {"end": ["The end must be after the start."]},
        },
    },
    "required": ["code", "message"],
}

_ERRORS = {
    "400": "Bad input: `errors` has a message per field.",
    "401": "Missing, unknown, revoked or expired token.",
    "403": "Signed in, but not allowed (scope, team or role).",
    "404": "No such object.",
    "429": "Too many requests; see Retry-After.",
}


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "scheduling.api.auth.BearerTokenAuthentication"
    name = "bearerToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A team API token (`cw_...`) from /api/v1/api-tokens.",
        }


def add_error_responses(result, generator, request, public):
    """Give every operation the shared error responses it can answer."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    ref = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    for path in result.get("paths", {}).values():
        for method, operation in path.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            for code, description in _ERRORS.items():
                # Every read and write takes input that can be bad (filters,
                # `at`, bodies); only deleting by id has none.
                if code == "400" and method == "delete":
                    continue
                responses.setdefault(code, {"description": description, **ref})
            if method == "post" and "/submit" in str(operation.get("operationId", "")):
                responses.setdefault("409", {"description": "Refused.", **ref})
    return result

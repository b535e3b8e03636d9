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
    for path, methods in _CONFLICTS.items():
        for method in methods & set(result.get("paths", {}).get(path, {})):
            responses = result["paths"][path][method]["responses"]
            responses.setdefault("409", {"description": _CONFLICT, **ref})
    return result


_CONFLICT = "Refused in the object's current state (e.g. a job that is not pending)."
# What answers 409: the job lifecycle (scheduling.services.submission, reviews, transitions),
# changing a deadline that belongs to a feed, and deleting what is in use.
# schemathesis found the 409s of the job's edit, cancel and done undocumented.
_CONFLICTS = {
    "/api/v1/jobs/{id}/": {"put", "patch"},
    "/api/v1/jobs/{id}/submit/": {"post"},
    "/api/v1/jobs/{id}/approve/": {"post"},
    "/api/v1/jobs/{id}/reject/": {"post"},
    "/api/v1/jobs/{id}/cancel/": {"post"},
    "/api/v1/jobs/{id}/done/": {"post"},
    "/api/v1/deadlines/{id}/": {"put", "patch", "delete"},
    # A team that still owns systems, jobs, deadlines... (scheduling.api.errors).
    "/api/v1/teams/{slug}/": {"delete"},
}

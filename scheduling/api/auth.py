"""Bearer tokens for CI, and the rule that a token only does what its scopes allow."""

import logging

from rest_framework import authentication, exceptions, permissions

from scheduling.choices import TokenScope
from scheduling.models import ApiToken
from scheduling.services.tokens import api_token_authenticate

logger = logging.getLogger("clearway.auth")


def request_token(request) -> ApiToken | None:
    """The team token a request came with, or None for a signed-in session."""
    return request.auth if isinstance(request.auth, ApiToken) else None


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode(errors="replace")
        if not header:
            return None
        keyword, _, secret = header.partition(" ")
        if keyword.lower() != self.keyword.lower():
            return None
        secret = secret.strip()
        token = api_token_authenticate(secret=secret) if secret else None
        if token is None:
            # Never log the secret itself, only where the attempt came from.
            logger.warning(
                "rejected API token from %s for %s", request.META.get("REMOTE_ADDR"), request.path
            )
            raise exceptions.AuthenticationFailed("The token is unknown, revoked or expired.")
        return token.user, token

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="clearway"'


def session_only_message(view, method: str) -> str:
    """Why a token was refused, and which scope or way in works instead."""
    scopes = getattr(view, "token_scopes", {})
    if scopes:
        allowed = ", ".join(f"{m} with '{scope}'" for m, scope in sorted(scopes.items()))
        return (
            f"API tokens cannot {method} this endpoint (tokens may: {allowed}); "
            f"sign in and use a session to {method} it."
        )
    return (
        "API tokens cannot use this endpoint: no scope allows it. Use a signed-in session "
        "(the web UI, or its session cookie with the X-CSRFToken header). Tokens work on "
        "the gate, state, checks and slots ('gate:read') and on jobs ('jobs:write')."
    )


class TokenScopes(permissions.BasePermission):
    """Requests made with a token need the view's scope; sessions are not limited here.

    A view declares `token_scopes = {"GET": "gate:read", "POST": "jobs:write"}`;
    a view without it cannot be used with a token at all.
    """

    message = "This token's scopes do not allow this request."

    def has_permission(self, request, view) -> bool:
        token = request.auth
        if not isinstance(token, ApiToken):
            return True
        needed = getattr(view, "token_scopes", {}).get(request.method)
        if needed is None and request.method in ("HEAD", "OPTIONS"):
            needed = getattr(view, "token_scopes", {}).get("GET")
        if needed is None:
            self.message = session_only_message(view, request.method)
            return False
        if needed not in token.scopes:
            # The scope's value ('gate:read'), not the enum's repr.
            self.message = f"This token lacks the '{needed}' scope."
            return False
        return True


READ = {"GET": TokenScope.GATE_READ}
READ_POST = {"GET": TokenScope.GATE_READ, "POST": TokenScope.GATE_READ}
JOBS = {
    "GET": TokenScope.GATE_READ,
    "POST": TokenScope.JOBS_WRITE,
    "PATCH": TokenScope.JOBS_WRITE,
    "PUT": TokenScope.JOBS_WRITE,
}

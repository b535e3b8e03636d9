from rest_framework.throttling import SimpleRateThrottle

from config.client_address import counted_address
from scheduling.models import ApiToken


class TokenRateThrottle(SimpleRateThrottle):
    """Per token (or per signed-in user) on the CI endpoints; answers 429 with Retry-After."""

    scope = "ci"

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiToken):
            ident = f"token:{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            # The address a trusted proxy vouches for, as the sign-in limit counts it.
            ident = f"address:{counted_address(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}

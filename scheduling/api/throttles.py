import bisect
from array import array

from rest_framework.throttling import SimpleRateThrottle

from config.client_address import counted_address
from scheduling.models import ApiToken


class TokenRateThrottle(SimpleRateThrottle):
    """Per token (or per signed-in user) on the CI endpoints; answers 429 with Retry-After.

    DRF's sliding log, the time of every request in the window, kept as packed
    doubles, oldest first: DRF keeps a list of floats, which the cache pickles
    and unpickles whole on every request (1,200 of them a minute at the
    default rate). The same log at a fraction of the cost; Retry-After says
    when the oldest request in the window stops counting.
    """

    scope = "ci"
    # Not DRF's key: DRF's own throttle (a process still on the code before,
    # during a rolling deploy) would read these bytes as its list and fail.
    cache_format = "throttle_log_%(scope)s_%(ident)s"

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiToken):
            ident = f"token:{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            # The address a trusted proxy vouches for, as the sign-in limit counts it.
            ident = f"address:{counted_address(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        self.log = array("d")
        kept = self.cache.get(self.key)
        if isinstance(kept, bytes) and len(kept) % self.log.itemsize == 0:
            self.log.frombytes(kept)  # anything else starts a new log
        # Requests as old as the window no longer count, as in DRF.
        del self.log[: bisect.bisect_right(self.log, self.now - self.duration)]
        if len(self.log) >= self.num_requests:
            return False
        self.log.append(self.now)
        self.cache.set(self.key, self.log.tobytes(), self.duration)
        return True

    def wait(self) -> float | None:
        """Seconds until the oldest request in the window stops counting."""
        if not self.log:
            return None
        return self.duration - (self.now - self.log[0])

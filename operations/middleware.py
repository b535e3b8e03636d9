"""Counts the gate's answers by HTTP status for /metrics, in the shared cache.

Counted here, around scheduling's gate view, so that `scheduling` never
imports this app. The default cache is per process: set CACHE_URL (Redis) so
that every worker adds to the same counters. A cache error never fails the
gate's answer.
"""

import logging
import re

from django.core.cache import cache

logger = logging.getLogger(__name__)

GATE_PATH = re.compile(r"^/api/v1/jobs/[0-9]+/gate/?$")
KEY = "clearway:metrics:gate:{status}"
COUNTED = (200, 401, 403, 404, 423, 429, 503)


def gate_answer_count(status: int) -> None:
    key = KEY.format(status=status if status in COUNTED else "other")
    try:
        # One cache operation per answer once the counter exists (a round trip on Redis).
        try:
            cache.incr(key)
        except ValueError:  # not counted yet (or evicted)
            if not cache.add(key, 1, timeout=None):
                cache.incr(key)
    except Exception:  # a metric is never worth a failed gate answer
        logger.warning("could not count a gate answer", exc_info=True)


def gate_answer_counts() -> dict[str, int]:
    keys = {KEY.format(status=s): str(s) for s in (*COUNTED, "other")}
    try:
        found = cache.get_many(list(keys))
    except Exception:
        logger.warning("could not read the gate answer counts", exc_info=True)
        return {}
    return {keys[key]: int(value) for key, value in found.items()}


class GateAnswerCounter:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.method == "GET" and GATE_PATH.match(request.path_info):
            gate_answer_count(response.status_code)
        return response

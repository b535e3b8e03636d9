"""GitHub's webhook signature: `X-Hub-Signature-256: sha256=<hex HMAC of the raw body>`."""

import hashlib
import hmac
import json
from typing import Any

from integrations.errors import SignatureInvalid
from scheduling.errors import InvalidInput


def signature_valid(*, body: bytes, header: str, secret: str) -> bool:
    """Whether `header` signs `body` with `secret`, compared in constant time.

    Checked on the raw bytes before anything parses them: a forged body is
    never read, let alone stored.
    """
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), (header or "").encode())


def verified_payload(*, body: bytes, header: str, secret: str) -> dict[str, Any]:
    """The JSON object `body` holds, once `header` proves GitHub signed it."""
    if not signature_valid(body=body, header=header, secret=secret):
        raise SignatureInvalid(
            "The X-Hub-Signature-256 header does not sign this body with the webhook secret."
        )
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        # RecursionError: arrays nested deeper than the parser's stack.
        raise InvalidInput("The body is not JSON.") from None
    if not isinstance(payload, dict):
        raise InvalidInput("The body is not a JSON object.")
    return payload

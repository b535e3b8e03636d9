"""GitHub's webhook signature: `X-Hub-Signature-256: sha256=<hex HMAC of the raw body>`."""

import hashlib
import hmac


def signature_valid(*, body: bytes, header: str, secret: str) -> bool:
    """Whether `header` signs `body` with `secret`, compared in constant time.

    Checked on the raw bytes before anything parses them: a forged body is
    never read, let alone stored.
    """
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), (header or "").encode())

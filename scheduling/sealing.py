"""Secrets Clearway must read back (webhook signing secrets), sealed at rest.

A token a client presents is stored as a digest; a secret Clearway signs with
must be recoverable, so it is encrypted (Fernet: AES-CBC + HMAC) with a key
derived from SECRET_KEY. SECRET_KEY_FALLBACKS still open what older keys
sealed, so rotating SECRET_KEY the Django way keeps every secret working.
"""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

_LABEL = b"clearway.sealed-secret.v1:"


def _fernet() -> MultiFernet:
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet(
        [
            Fernet(base64.urlsafe_b64encode(hashlib.sha256(_LABEL + key.encode()).digest()))
            for key in keys
        ]
    )


def seal(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def unseal(sealed: str) -> str | None:
    """The secret, or None when no current or fallback SECRET_KEY sealed it."""
    try:
        return _fernet().decrypt(sealed.encode()).decode()
    except InvalidToken:
        return None

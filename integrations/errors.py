"""The integrations' domain errors, in scheduling's one family (mapped once to HTTP)."""

from scheduling.errors import DomainError


class SignatureInvalid(DomainError):
    status = 401
    code = "bad_signature"


class PayloadTooLarge(DomainError):
    status = 413
    code = "too_large"

"""Idempotency keys of API requests, so a retried request runs once."""

from django.db import models


class IdempotencyKey(models.Model):
    """One caller's `Idempotency-Key` and the answer its first request got.

    The key itself is not stored, only an HMAC of it, and the answer is
    encrypted with a key derived from it: an answer may hold a secret shown
    once (a new API token), and the database alone cannot read it back.
    `status_code` is null while the first request still runs. Rows older than
    CLEARWAY_IDEMPOTENCY_TTL are purged by `idempotency.tasks.purge`.
    """

    # "token:<id>" or "user:<id>": keys are scoped to who sent them.
    caller = models.CharField(max_length=40)
    key_digest = models.CharField(max_length=64)
    # SHA-256 of the method, path and body: the same key with another body is refused.
    fingerprint = models.CharField(max_length=64)
    created = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    answer = models.BinaryField(null=True, blank=True)

    class Meta:
        constraints = [
            # Two concurrent retries cannot both claim a key: the second insert fails.
            models.UniqueConstraint(
                fields=["caller", "key_digest"], name="idempotency_key_once_per_caller"
            )
        ]
        # The purge's `created < cutoff`.
        indexes = [models.Index(fields=["created"], name="idempotency_key_created")]

    def __str__(self) -> str:
        return f"{self.caller} {self.key_digest[:12]}"

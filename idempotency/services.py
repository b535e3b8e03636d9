"""Claiming an Idempotency-Key, keeping the first answer, and forgetting old keys.

A request with a key first claims it (an INSERT under a unique constraint,
committed at once), then runs, then stores its answer on the claim. A retry
with the same key and body finds the answer and replays it; one that arrives
while the first still runs gets a 409 (`in_progress`) and may retry later;
the same key with another body is a 422 (`idempotency_key_reused`).
"""

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.db import IntegrityError, transaction

from idempotency.models import IdempotencyKey
from scheduling.errors import Conflict, DomainError

# A claim still unanswered after this long belongs to a request that died
# (a killed worker); a retry may take it over. Far above the statement
# timeout and any worker timeout.
STALE_AFTER = timedelta(minutes=10)
HEADER = "Idempotency-Key"


class KeyReused(DomainError):
    status = 422
    code = "idempotency_key_reused"


@dataclass(frozen=True)
class Answer:
    status_code: int
    headers: dict[str, str]
    body: bytes


def _derive(purpose: str, caller: str, key: str) -> bytes:
    message = f"{purpose}\0{caller}\0{key}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).digest()


def _cipher(caller: str, key: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_derive("clearway-idempotency-answer", caller, key)))


def _ttl() -> timedelta:
    return settings.CLEARWAY_IDEMPOTENCY_TTL


def idempotency_key_claim(
    *, caller: str, key: str, fingerprint: str, now: datetime
) -> IdempotencyKey | Answer:
    """Claim `key` for `caller`: the new claim to run under, or the first answer to replay."""
    key_digest = _derive("clearway-idempotency-key", caller, key).hex()
    for _ in range(3):
        try:
            with transaction.atomic():
                return IdempotencyKey.objects.create(
                    caller=caller, key_digest=key_digest, fingerprint=fingerprint, created=now
                )
        except IntegrityError:
            pass
        existing = IdempotencyKey.objects.filter(caller=caller, key_digest=key_digest).first()
        if existing is None:
            continue  # purged or released between the two statements: claim again
        if existing.created <= now - _ttl():
            # Expired but not yet purged: as good as gone.
            IdempotencyKey.objects.filter(pk=existing.pk, created=existing.created).delete()
            continue
        if not hmac.compare_digest(existing.fingerprint, fingerprint):
            raise KeyReused(
                f"This {HEADER} was already used for another request; use a new key "
                "for a new request.",
                fields={HEADER: ["Already used with another method, path or body."]},
            )
        if existing.status_code is not None:
            return _open(existing, caller=caller, key=key)
        if existing.created <= now - STALE_AFTER:
            taken = IdempotencyKey.objects.filter(
                pk=existing.pk, status_code__isnull=True, created=existing.created
            ).update(created=now)
            if taken:
                existing.created = now
                return existing
        raise Conflict(
            f"A request with this {HEADER} is still running; retry in a few seconds.",
            code="in_progress",
        )
    raise Conflict(f"This {HEADER} is contended; retry in a few seconds.", code="in_progress")


def idempotency_key_answer(*, claim: IdempotencyKey, key: str, answer: Answer) -> None:
    """Keep the answer of the request that ran under `claim`, encrypted."""
    payload = json.dumps(
        {"headers": answer.headers, "body": base64.b64encode(answer.body).decode()}
    ).encode()
    IdempotencyKey.objects.filter(pk=claim.pk, status_code__isnull=True).update(
        status_code=answer.status_code,
        answer=_cipher(claim.caller, key).encrypt(payload),
    )


def idempotency_key_release(*, claim: IdempotencyKey) -> None:
    """Forget a claim whose request changed nothing (refused, throttled, failed)."""
    IdempotencyKey.objects.filter(pk=claim.pk, status_code__isnull=True).delete()


def idempotency_keys_purge(*, now: datetime) -> int:
    """Delete keys older than the TTL; returns how many."""
    deleted, _ = IdempotencyKey.objects.filter(created__lte=now - _ttl()).delete()
    return deleted


def _open(row: IdempotencyKey, *, caller: str, key: str) -> Answer:
    try:
        payload = json.loads(_cipher(caller, key).decrypt(bytes(row.answer)))
    except (InvalidToken, TypeError, ValueError) as exc:
        # SECRET_KEY rotated since: the answer is unreadable, but the request ran.
        raise Conflict(
            f"The request with this {HEADER} already ran, but its answer can no longer be shown.",
            code="already_done",
        ) from exc
    return Answer(
        status_code=row.status_code,
        headers=payload["headers"],
        body=base64.b64decode(payload["body"]),
    )

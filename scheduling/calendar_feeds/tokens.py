"""Feed tokens: secret calendar addresses, since calendar apps cannot sign in.

Only the SHA-256 digest of a token is stored; the token itself is shown once,
when it is created. A token is looked up by its digest (an indexed equality on
a hash, so nothing about the secret leaks through timing).
"""

from datetime import datetime, timedelta
from functools import cache

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from scheduling.calendar_feeds.assembly import feed_names
from scheduling.db import write_without_waiting
from scheduling.errors import InvalidInput, NotFound
from scheduling.models import FeedToken
from scheduling.models.tokens import digest, new_secret
from scheduling.text import check_one_line

PREFIX = "cwf"
# last_used is a hint for people tidying their tokens, not an audit trail: one
# write a minute at most, whatever the polling rate of the calendar apps.
LAST_USED_PRECISION = timedelta(minutes=1)
MAX_ACTIVE_TOKENS = 50


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise InvalidInput.for_field("name", "Give the token a name, e.g. 'Work laptop'.")
    if len(name) > 100:
        raise InvalidInput.for_field("name", "A name has at most 100 characters.")
    check_one_line("The token is not valid.", name=name)
    return name


# --- selectors -----------------------------------------------------------


def feed_tokens_of(*, user: AbstractBaseUser) -> QuerySet[FeedToken]:
    """The user's tokens that still work, newest first."""
    return FeedToken.objects.filter(user=user, revoked_at__isnull=True).order_by("-created", "-pk")


def feed_token_for_secret(*, secret: str) -> FeedToken | None:
    """The live token behind a secret, or None (unknown, revoked or inactive user).

    Only `id`, `user_id` and `last_used` are loaded.
    """
    if not secret.startswith(f"{PREFIX}_") or len(secret) > 100:
        return None
    found = FeedToken.objects.raw(_by_digest_sql(), [digest(secret)])
    return next(iter(found), None)


@cache
def _by_digest_sql() -> str:
    # Every calendar poll runs this lookup, and the ORM takes longer to compile
    # it than the database to answer it (an equality on the unique digest),
    # so it is written once in SQL. Identifiers come from the models' _meta.
    q = connection.ops.quote_name
    token, user = FeedToken._meta, get_user_model()._meta
    column = {name: q(token.get_field(name).column) for name in ("user", "digest", "revoked_at")}
    return (
        f"SELECT t.{q(token.pk.column)}, t.{column['user']}, "  # noqa: S608
        f"t.{q(token.get_field('last_used').column)} "
        f"FROM {q(token.db_table)} t JOIN {q(user.db_table)} u "
        f"ON u.{q(user.pk.column)} = t.{column['user']} "
        f"WHERE t.{column['digest']} = %s AND t.{column['revoked_at']} IS NULL "
        f"AND u.{q(user.get_field('is_active').column)}"
    )


def feed_urls(*, secret: str) -> dict[str, str]:
    return {
        feed: f"{settings.SITE_URL}/calendar/{secret}/{feed}.ics" for feed in sorted(feed_names())
    }


def _own(*, token_id: int, user: AbstractBaseUser) -> FeedToken:
    token = feed_tokens_of(user=user).filter(pk=token_id).first()
    if token is None:
        raise NotFound(f"You have no feed token #{token_id}.")
    return token


# --- services ------------------------------------------------------------


@transaction.atomic
def feed_token_create(*, user: AbstractBaseUser, name: str) -> tuple[FeedToken, str]:
    """Create a token; return it with its secret, which is not stored anywhere."""
    name = _check_name(name)
    if feed_tokens_of(user=user).count() >= MAX_ACTIVE_TOKENS:
        raise InvalidInput(
            f"You already have {MAX_ACTIVE_TOKENS} feed tokens; revoke one you no longer use."
        )
    secret = new_secret(PREFIX)
    token = FeedToken.objects.create(user=user, name=name, digest=digest(secret))
    return token, secret


def feed_token_rename(*, token_id: int, user: AbstractBaseUser, name: str) -> FeedToken:
    token = _own(token_id=token_id, user=user)
    token.name = _check_name(name)
    token.save(update_fields=["name"])
    return token


def feed_token_revoke(
    *, token_id: int, user: AbstractBaseUser, now: datetime | None = None
) -> FeedToken:
    """Revoke one of the user's tokens: its addresses answer 404 from now on."""
    token = _own(token_id=token_id, user=user)
    token.revoked_at = now or timezone.now()
    token.save(update_fields=["revoked_at"])
    return token


def feed_token_mark_used(*, token: FeedToken, now: datetime) -> bool:
    """Record a use, at most once per LAST_USED_PRECISION; return whether it wrote."""
    if token.last_used is not None and now - token.last_used < LAST_USED_PRECISION:
        return False
    stale = Q(last_used__isnull=True) | Q(last_used__lt=now - LAST_USED_PRECISION)
    written = []
    # Bookkeeping: skipped rather than make a calendar poll wait on a lock.
    write_without_waiting(
        lambda: written.append(FeedToken.objects.filter(stale, pk=token.pk).update(last_used=now))
    )
    token.last_used = now
    return bool(written and written[0])

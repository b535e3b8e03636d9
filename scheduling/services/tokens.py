"""API tokens for CI: created once in clear, then only their digest is kept."""

import hmac
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from scheduling import token_cache
from scheduling.choices import TokenScope
from scheduling.db import write_without_waiting
from scheduling.errors import InvalidInput, NotAllowed, NotFound
from scheduling.models import ApiToken, Team
from scheduling.models.tokens import digest, new_secret
from scheduling.selectors import is_member
from scheduling.text import MESSAGE as ONE_LINE
from scheduling.text import is_one_line

NAME_MAX = 100  # ApiToken.name's max_length
TOKEN_PREFIX = "cw"  # noqa: S105 - a label, not a secret
# last_used is a write; once a minute is precise enough and keeps the gate cheap.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def token_user_for(team: Team):
    """The inactive account a team's tokens act as, so the audit names the machine.

    Found by the team's id, not its slug: a renamed team's slug can be reused
    by a new team, and `ci@<slug>` then made both teams' tokens one account,
    a member of both. The name carries the slug it was made under, for people.
    """
    User = get_user_model()
    prefix = f"ci-{team.pk}@"
    user = User.objects.filter(username__startswith=prefix).order_by("pk").first()
    if user is None:
        user = User.objects.create(
            username=f"{prefix}{team.slug}"[:150], is_active=False, first_name="CI"
        )
        user.set_unusable_password()
        user.save(update_fields=["password"])
    team.members.add(user)
    return user


@transaction.atomic
def api_token_create(
    *,
    team: Team,
    name: str,
    scopes: list[str],
    expires: datetime | None = None,
    by: User | None = None,
    now: datetime | None = None,
) -> tuple[ApiToken, str]:
    """Create a token; the plaintext is returned here and never again."""
    now = now or timezone.now()
    if by is not None and not may_hold_tokens(by, team):
        raise NotAllowed(f"Only members of {team.name} can create its tokens.")
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = ["Name the token after what uses it, e.g. 'deploy pipeline'."]
    elif not is_one_line(name):
        errors["name"] = [ONE_LINE]
    elif len(name.strip()) > NAME_MAX:
        errors["name"] = [f"Keep the name to {NAME_MAX} characters."]
    unknown = sorted(set(scopes) - set(TokenScope.values))
    if not scopes or unknown:
        errors["scopes"] = [f"Scopes must be among {', '.join(TokenScope.values)}."]
    if expires is not None and expires <= now:
        errors["expires"] = ["The expiry must be in the future."]
    if errors:
        raise InvalidInput("The token is not valid.", fields=errors)
    secret = new_secret(TOKEN_PREFIX)
    token = ApiToken.objects.create(
        team=team,
        name=name.strip(),
        scopes=sorted(set(scopes)),
        digest=digest(secret),
        hint=secret[:8],
        expires=expires,
        created_by=by if getattr(by, "pk", None) else None,
        user=token_user_for(team),
    )
    return token, secret


def may_hold_tokens(user: User | None, team: Team) -> bool:
    """Who may make a team's tokens, and whose tokens stay live: its members, and staff,
    while their account is active."""
    if user is None or not user.is_active:
        return False
    return bool(getattr(user, "is_staff", False)) or is_member(user, team)


def api_token_revoke(*, token_id: int, by: User, now: datetime | None = None) -> None:
    token = ApiToken.objects.select_related("team").filter(pk=token_id).first()
    if token is None or not may_hold_tokens(by, token.team):
        raise NotFound(f"There is no token #{token_id}.")
    _revoke([token.pk], now=now or timezone.now())


def api_tokens_revoke_of_leavers(*, team: Team, now: datetime | None = None) -> list[int]:
    """Revoke the team's live tokens whose makers may no longer make them; return their ids.

    Called when the team's members change: a token made by someone who left
    the team would let them go on booking and submitting for it. Revoking
    (rather than refusing at each request) keeps `revoked_at` as the record,
    and the token stays dead if its maker comes back. Tokens made by staff,
    or by no one (`create_token`), stay.
    """
    live = ApiToken.objects.filter(team=team, revoked_at__isnull=True, created_by__isnull=False)
    left = [
        t.pk for t in live.select_related("created_by") if not may_hold_tokens(t.created_by, team)
    ]
    if left:
        _revoke(left, now=now or timezone.now())
    return left


def api_tokens_revoke_made_by(*, user: User, now: datetime | None = None) -> list[int]:
    """Revoke every live token `user` made, whatever the team; return their ids.

    Called when the account is deactivated or deleted: someone who left the
    organisation must not go on booking through a token they made, and once
    the account is deleted the token no longer says who made it.
    """
    left = list(
        ApiToken.objects.filter(created_by=user, revoked_at__isnull=True).values_list(
            "pk", flat=True
        )
    )
    if left:
        _revoke(left, now=now or timezone.now())
    return left


def _revoke(token_ids: list[int], *, now: datetime) -> None:
    ApiToken.objects.filter(pk__in=token_ids, revoked_at__isnull=True).update(revoked_at=now)
    # At once here; other processes within CLEARWAY_TOKEN_CACHE_SECONDS.
    transaction.on_commit(lambda: _forget(token_ids))
    _forget(token_ids)


def _forget(token_ids: list[int]) -> None:
    for token_id in token_ids:
        token_cache.forget(token_id=token_id)


def api_token_authenticate(*, secret: str, now: datetime | None = None) -> ApiToken | None:
    """The live token for `secret`, or None. Looked up by digest, compared in constant time."""
    now = now or timezone.now()
    wanted = digest(secret)
    token = token_cache.get(wanted, now=now)
    if token is None:
        token = (
            ApiToken.objects.select_related("team", "user")
            .filter(digest=wanted, revoked_at__isnull=True)
            # A maker deactivated without a save (a bulk update by a directory
            # sync) sends no signal to revoke their tokens: refused here too.
            .exclude(created_by__is_active=False)
            .first()
        )
        if token is None or not hmac.compare_digest(token.digest, wanted):
            return None
        token_cache.put(wanted, token, now=now)
    # Checked on every request, cached or not: a token is refused at its expiry instant.
    if token.expires is not None and token.expires <= now:
        return None
    if token.last_used is None or now - token.last_used >= LAST_USED_RESOLUTION:
        # Bookkeeping: skipped rather than make the caller's read wait on a lock.
        write_without_waiting(lambda: ApiToken.objects.filter(pk=token.pk).update(last_used=now))
        token.last_used = now
        token_cache.note_used(wanted, now)
    return token

"""Talking to GitHub's API as the App: an RS256 JWT exchanged for an installation token.

The private key comes from CLEARWAY_GITHUB_PRIVATE_KEY (the PEM text) or
CLEARWAY_GITHUB_PRIVATE_KEY_FILE; it is read when a token is needed and
appears in no message or log. Installation tokens last an hour; each is cached
until shortly before it expires, in the shared cache, so every process uses it.
"""

import logging
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import requests
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.dateparse import parse_datetime

logger = logging.getLogger(__name__)

TIMEOUT = (3.05, 15)
# GitHub refuses an app JWT valid for more than 10 minutes; its clock may be
# a little behind ours, hence the minute in the past.
JWT_LIFETIME = timedelta(minutes=9)
CLOCK_SKEW = timedelta(seconds=60)
# A cached installation token is dropped this long before GitHub expires it,
# so no request starts with a token about to die.
TOKEN_MARGIN = timedelta(minutes=5)
HEADERS = {
    "Accept": "application/vnd.github+json",
    "X-GitHub-Api-Version": "2022-11-28",
    "User-Agent": "Clearway",
}


class GitHubError(Exception):
    """GitHub could not be asked or refused; the message is safe to show and store."""


def api_url() -> str:
    return settings.CLEARWAY_GITHUB_API_URL.rstrip("/")


def _private_key() -> str:
    if settings.CLEARWAY_GITHUB_PRIVATE_KEY:
        return settings.CLEARWAY_GITHUB_PRIVATE_KEY
    path = settings.CLEARWAY_GITHUB_PRIVATE_KEY_FILE
    if not path:
        raise GitHubError(
            "Set CLEARWAY_GITHUB_PRIVATE_KEY_FILE (or CLEARWAY_GITHUB_PRIVATE_KEY) to the "
            "GitHub App's private key."
        )
    try:
        return Path(path).read_text()
    except OSError as exc:
        raise GitHubError(
            f"CLEARWAY_GITHUB_PRIVATE_KEY_FILE {path} cannot be read: {exc.strerror}."
        ) from None


def app_jwt(*, now: datetime | None = None) -> str:
    """The App's own credential: a JWT signed with its private key (RS256)."""
    if not settings.CLEARWAY_GITHUB_APP_ID:
        raise GitHubError("Set CLEARWAY_GITHUB_APP_ID to the GitHub App's id.")
    now = now or timezone.now()
    claims = {
        "iat": int((now - CLOCK_SKEW).timestamp()),
        "exp": int((now + JWT_LIFETIME).timestamp()),
        "iss": str(settings.CLEARWAY_GITHUB_APP_ID),
    }
    try:
        return jwt.encode(claims, _private_key(), algorithm="RS256")
    except (ValueError, TypeError, jwt.PyJWTError):
        # `from None`: the key parser's error must not carry the key's text.
        raise GitHubError("The GitHub App's private key is not a valid RSA key in PEM.") from None


def _cache_key(installation_id: int) -> str:
    return f"clearway:github:installation-token:{installation_id}"


def installation_token(*, installation_id: int, now: datetime | None = None) -> str:
    """A token for the installation, from the cache or freshly exchanged."""
    now = now or timezone.now()
    cached = cache.get(_cache_key(installation_id))
    if cached:
        return cached
    url = f"{api_url()}/app/installations/{installation_id}/access_tokens"
    answer = _request(
        "POST", url, headers={"Authorization": f"Bearer {app_jwt(now=now)}"}, expect=201
    )
    token, expires = answer.get("token"), parse_datetime(answer.get("expires_at") or "")
    if not token or expires is None:
        raise GitHubError("GitHub answered the installation token request without a token.")
    lifetime = (expires - now - TOKEN_MARGIN).total_seconds()
    if lifetime > 0:
        cache.set(_cache_key(installation_id), token, timeout=int(lifetime))
    return token


def forget_installation_token(*, installation_id: int) -> None:
    cache.delete(_cache_key(installation_id))


def post_as_installation(*, installation_id: int, url: str, body: dict[str, Any]) -> None:
    """POST `body` to `url` with the installation's token; GitHub answers 2xx or this raises."""
    if not url.startswith(f"{api_url()}/"):
        # The token goes with the request: never to a host other than GitHub's API.
        raise GitHubError(f"{url} is not on CLEARWAY_GITHUB_API_URL ({api_url()}).")
    token = installation_token(installation_id=installation_id)
    try:
        _request("POST", url, headers={"Authorization": f"Bearer {token}"}, json=body)
    except GitHubError as exc:
        if "HTTP 401" in str(exc):
            # Revoked or expired early: the next attempt fetches a new one.
            forget_installation_token(installation_id=installation_id)
        raise


def _request(
    method: str, url: str, *, headers: dict[str, str], json: Any = None, expect: int | None = None
) -> dict[str, Any]:
    try:
        response = requests.request(
            method,
            url,
            headers={**HEADERS, **headers},
            json=json,
            timeout=TIMEOUT,
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        raise GitHubError(f"GitHub could not be reached: {type(exc).__name__}.") from None
    ok = response.status_code == expect if expect else 200 <= response.status_code < 300
    if not ok:
        raise GitHubError(
            f"GitHub answered HTTP {response.status_code} to {method} {url}: {response.text[:300]}"
        )
    if not response.content:
        return {}
    try:
        return response.json()
    except ValueError:
        raise GitHubError(
            f"GitHub answered {method} {url} with something other than JSON."
        ) from None

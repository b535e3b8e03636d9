"""Team webhooks: the body in the team's format, signed per Standard Webhooks.

Every POST carries `webhook-id` (the same on each retry of one delivery, so a
receiver can drop duplicates), `webhook-timestamp` and `webhook-signature`,
made with the reference `standardwebhooks` library from the team's secret.
The secret is shown once when created and can be rotated at any time.
"""

import base64
import json
import re
import secrets
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from scheduling.choices import WebhookFormat
from scheduling.errors import NotAllowed
from scheduling.models import Delivery, Team
from scheduling.outbound import guarded_post
from scheduling.sealing import seal, unseal
from scheduling.selectors import manages_team_webhook

SECRET_PREFIX = "whsec_"  # noqa: S105 (the format prefix Standard Webhooks defines)


class WebhookFailed(Exception):
    pass


def new_webhook_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


@transaction.atomic
def team_webhook_secret_rotate(*, team: Team, by: User, now: datetime | None = None) -> str:
    """Give `team` a new signing secret and return it: the only time it is shown.

    The old secret stops signing at once; receivers switch to the new one.
    """
    if not manages_team_webhook(user=by, team=team):
        raise NotAllowed(
            f"Only members of {team.slug} or administrators can rotate its webhook secret."
        )
    secret = new_webhook_secret()
    team.webhook_secret_sealed = seal(secret)
    team.webhook_secret_created = now or timezone.now()
    team.save(update_fields=["webhook_secret_sealed", "webhook_secret_created"])
    return secret


def webhook_url_masked(url: str) -> str:
    """Where a webhook posts, without the path that Slack and Teams use as its key."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}/…" if parts.netloc else "…"


def _slack_escape(text: str) -> str:
    # Slack reads &, < and > as markup (links, mentions); a job title must not.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_MARKDOWN = re.compile(r"([\\`*_\[\]()~])")
# A list item, heading or quote at the start of a line: "- ", "1. ", "# ", "> ".
_LIST_MARKER = re.compile(r"^(\s*)(?:([-+>]|#+)|(\d+)\.)(?=\s)", re.MULTILINE)


def _teams_escape(text: str) -> str:
    # Adaptive Card text blocks render markdown (bold, links, lists); a job
    # title must show as written, not as a link or a heading.
    text = _MARKDOWN.sub(r"\\\1", text)
    return _LIST_MARKER.sub(lambda m: m[1] + ("\\" + m[2] if m[2] else m[3] + "\\."), text)


def webhook_body(*, delivery: Delivery, format: str) -> dict[str, Any]:
    """What a webhook receives, in one of the formats a team can choose."""
    link = (delivery.payload.get("job") or {}).get("url", "")
    if format == WebhookFormat.SLACK:
        # An incoming-webhook message: `text` is the notification fallback,
        # the section block what the channel shows.
        shown = f"*{_slack_escape(delivery.subject)}*\n{_slack_escape(delivery.text)}"
        if link:
            shown += f"\n<{link}|Open in Clearway>"
        return {
            # The notification shows `text`: a <!channel> in it would ping too.
            "text": _slack_escape(delivery.subject),
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": shown[:3000]}}],
        }
    if format == WebhookFormat.TEAMS:
        # The message shape Teams' incoming webhooks and Workflows accept: one
        # Adaptive Card attachment.
        card: dict[str, Any] = {
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard",
            "version": "1.4",
            "body": [
                {
                    "type": "TextBlock",
                    "text": _teams_escape(delivery.subject),
                    "weight": "Bolder",
                    "wrap": True,
                },
                {"type": "TextBlock", "text": _teams_escape(delivery.text), "wrap": True},
            ],
        }
        if link:
            card["actions"] = [{"type": "Action.OpenUrl", "title": "Open in Clearway", "url": link}]
        return {
            "type": "message",
            "attachments": [
                {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}
            ],
        }
    return delivery.payload


def webhook_send(
    *, delivery: Delivery, url: str, timeout: tuple[float, float], now: datetime | None = None
) -> None:
    """POST one delivery to `url`, signed with the secret of every team using it.

    Teams sharing one URL share one delivery (see notifications._channels), so
    it carries one signature per team secret; Standard Webhooks lists several
    signatures separated by spaces, and a receiver accepts any that verifies.
    """
    now = now or timezone.now()
    teams = list(Team.objects.filter(webhook_url=url).order_by("pk"))
    format = teams[0].webhook_format if teams else WebhookFormat.CLEARWAY
    body = json.dumps(webhook_body(delivery=delivery, format=format)).encode()
    message_id = f"msg_clearway_{delivery.pk}"
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Clearway webhooks",
        "Idempotency-Key": f"{delivery.key}:{delivery.channel}",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
    }
    signatures = []
    for team in teams:
        if not team.webhook_secret_sealed:
            continue
        secret = unseal(team.webhook_secret_sealed)
        if secret is None:
            # Sending unsigned would fail every receiver that verifies, silently.
            raise WebhookFailed(
                f"{team.slug}'s webhook secret cannot be opened (SECRET_KEY changed without "
                "SECRET_KEY_FALLBACKS?); rotate the secret."
            )
        signatures.append(Webhook(secret).sign(msg_id=message_id, timestamp=now, data=body))
    if signatures:
        headers["webhook-signature"] = " ".join(signatures)
    try:
        response = guarded_post(url, body=body, headers=headers, timeout=timeout)
    except requests.RequestException as exc:
        # Not `exc` itself: requests' message carries the URL's path, which is
        # a Slack or Teams webhook's key, into the admin and the logs.
        raise WebhookFailed(
            f"{type(exc).__name__}: no answer from {webhook_url_masked(url)}"
        ) from None
    if not 200 <= response.status_code < 300:
        # Only the status: the body is the receiver's (an internal error page,
        # a stack trace) and the admin shows this message.
        raise WebhookFailed(f"HTTP {response.status_code} from the webhook")

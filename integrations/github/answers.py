"""Sending a deployment review's answer to GitHub, as a scheduling Delivery.

scheduling.services.notifications calls `deliver` for channels `github:<id>`
(CLEARWAY_DELIVERY_SENDERS), records failures on the Delivery and retries
with backoff, so a GitHub outage delays the answer and never loses it.
"""

from integrations.github.client import post_as_installation
from integrations.models import DeploymentReview
from scheduling.models import Delivery


def deliver(*, delivery: Delivery, target: str) -> None:
    review = DeploymentReview.objects.get(pk=int(target))
    post_as_installation(
        installation_id=review.installation_id, url=review.callback_url, body=delivery.payload
    )

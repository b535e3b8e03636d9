"""Notifications by email and webhook, each delivered once per event and channel.

`notify` records one Delivery per channel inside the caller's transaction and
enqueues its sending after commit; `delivery_send` sends one, records the
outcome on its row and schedules a retry with backoff until the limit.
"""

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.module_loading import import_string

from scheduling.addresses import AddressRefused
from scheduling.choices import DeliveryStatus, JobStatus
from scheduling.models import Delivery, JobOccurrence, MaintenanceJob, Team
from scheduling.queue import enqueue
from scheduling.services.messages import job_data, job_link
from scheduling.services.webhooks import webhook_send
from scheduling.text import header_safe

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
WEBHOOK_TIMEOUT = (3.05, 10)


class DeliveryFailed(Exception):
    pass


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, 8, 16 minutes between attempts."""
    return timedelta(minutes=2 ** max(attempts - 1, 0))


def _channels(team: Team) -> list[str]:
    channels = [f"email:{address}" for address in team.email_addresses if address]
    if team.webhook_url:
        channels.append(f"webhook:{team.webhook_url}")
    return channels


def teams_told(
    *, job: MaintenanceJob, event: str, since: Iterable[str], among: Iterable[Team]
) -> list[Team]:
    """Of `among`, the teams sent `event` about `job` (to a channel they still have) after
    its latest delivery of any `since` event, or ever if it had none."""
    deliveries = Delivery.objects.filter(job=job)
    # A job's deliveries are recorded under its row lock, so their ids follow its story.
    after = deliveries.filter(event__in=list(since)).aggregate(last=Max("pk"))["last"] or 0
    sent = set(deliveries.filter(event=event, pk__gt=after).values_list("channel", flat=True))
    return [team for team in among if sent.intersection(_channels(team))]


def notify(
    *,
    key: str,
    event: str,
    teams: Iterable[Team],
    subject: str,
    text: str,
    data: dict[str, Any],
    job: MaintenanceJob | None = None,
    now: datetime | None = None,
) -> list[Delivery]:
    """Record a notification for every channel of `teams`; send after commit."""
    now = now or timezone.now()
    channels = sorted({channel for team in teams for channel in _channels(team)})
    payload = {"text": text, "event": event, "key": key, **data}
    created = []
    for channel in channels:
        delivery = delivery_record(
            key=key,
            channel=channel,
            event=event,
            subject=subject,
            text=text,
            payload=payload,
            job=job,
            now=now,
        )
        if delivery is not None:
            created.append(delivery)
    return created


def delivery_record(
    *,
    key: str,
    channel: str,
    event: str,
    subject: str,
    text: str,
    payload: dict[str, Any],
    job: MaintenanceJob | None = None,
    now: datetime | None = None,
) -> Delivery | None:
    """Record one delivery to `channel` and send it after commit; None if `key` was there.

    A channel is `kind:target`; kinds other than email and webhook are sent by
    the function CLEARWAY_DELIVERY_SENDERS names (apps that build on
    scheduling, such as integrations' GitHub answers).
    """
    delivery, fresh = Delivery.objects.get_or_create(
        key=key,
        channel=channel,
        defaults={
            "event": event,
            "job": job,
            "subject": subject,
            "text": text,
            "payload": payload,
            "next_attempt_at": now or timezone.now(),
        },
    )
    if not fresh:
        return None
    enqueue("scheduling.tasks.send_delivery", delivery.pk)
    return delivery


def _send(delivery: Delivery) -> None:
    kind, _, target = delivery.channel.partition(":")
    if kind == "email":
        EmailMessage(
            # Safe whatever the title held: a CR/LF here failed every email for good.
            subject=header_safe(delivery.subject),
            body=delivery.text,
            to=[target],
            headers={"X-Clearway-Event": delivery.key},
        ).send()
        return
    if kind == "webhook":
        webhook_send(delivery=delivery, url=target, timeout=WEBHOOK_TIMEOUT)
        return
    import_string(settings.CLEARWAY_DELIVERY_SENDERS[kind])(delivery=delivery, target=target)


def delivery_send(*, delivery_id: int, now: datetime | None = None) -> bool:
    """Send one pending delivery; return True when it was sent now."""
    now = now or timezone.now()
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(pk=delivery_id, status=DeliveryStatus.PENDING)
            .first()
        )
        if delivery is None:
            return False
        try:
            _send(delivery)
        except Exception as exc:
            delivery.attempts += 1
            delivery.last_error = str(exc)[:2000] or type(exc).__name__
            # A refused address is refused before connecting; retrying it
            # would only knock on the same door.
            if delivery.attempts >= MAX_ATTEMPTS or isinstance(exc, AddressRefused):
                delivery.status = DeliveryStatus.FAILED
                logger.warning("delivery %s failed for good: %s", delivery.pk, delivery.last_error)
            else:
                delivery.next_attempt_at = now + backoff(delivery.attempts)
            delivery.save(update_fields=["attempts", "last_error", "status", "next_attempt_at"])
            return False
        delivery.attempts += 1
        delivery.status = DeliveryStatus.SENT
        delivery.sent_at = now
        delivery.last_error = ""
        delivery.save(update_fields=["attempts", "status", "sent_at", "last_error"])
        return True


def deliveries_retry_due(*, now: datetime | None = None, limit: int = 200) -> int:
    """Every minute: claim due deliveries one at a time and send them."""
    now = now or timezone.now()
    sent = 0
    for _ in range(limit):
        due = (
            Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at")
            .values_list("pk", flat=True)
            .first()
        )
        if due is None:
            break
        if delivery_send(delivery_id=due, now=now):
            sent += 1
        elif Delivery.objects.filter(
            pk=due, status=DeliveryStatus.PENDING, next_attempt_at__lte=now
        ).exists():
            break  # locked by another worker: let it finish
    return sent


def notify_upcoming_windows(*, now: datetime | None = None) -> int:
    """Tell the requesting team about approved windows starting within 24 hours."""
    now = now or timezone.now()
    upcoming = JobOccurrence.objects.filter(
        job__status=JobStatus.APPROVED, start__gt=now, start__lte=now + timedelta(hours=24)
    ).select_related("job", "job__team")
    count = 0
    for occurrence in upcoming:
        job = occurrence.job
        with transaction.atomic():
            count += len(
                notify(
                    key=f"job:{job.pk}:starts:{occurrence.start.isoformat()}",
                    event="window_starts_soon",
                    teams=[job.team],
                    subject=f"[Clearway] Job #{job.pk} starts within 24 hours",
                    text=(
                        f"Job #{job.pk} '{job.title}' starts at "
                        f"{occurrence.start:%Y-%m-%d %H:%M} UTC. {job_link(job)}"
                    ),
                    data=job_data(job),
                    job=job,
                    now=now,
                )
            )
    return count

"""The organisation-wide change freeze."""

from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from scheduling.engine import FAR_FUTURE
from scheduling.models import Freeze
from scheduling.services.calendar import calendar_change_record, calendar_changed
from scheduling.timeline.services import timeline_refresh_freeze


def freeze_get() -> Freeze:
    freeze, _ = Freeze.objects.get_or_create(pk=1)
    return freeze


@transaction.atomic
def freeze_set(
    *, active: bool, reason: str = "", by: AbstractBaseUser | None, now: datetime | None = None
) -> Freeze:
    freeze, _ = Freeze.objects.select_for_update().get_or_create(pk=1)
    changed = freeze.active != active
    reworded = freeze.reason != reason
    freeze.reason = reason
    if changed:
        freeze.active = active
        freeze.since = now or timezone.now()
        freeze.by = by
    freeze.save()
    if reworded or changed:
        timeline_refresh_freeze()
    if reworded and not changed:
        # Findings quote the reason: cached answers must not keep the old one.
        calendar_change_record(reason="change freeze reason edited")
    if changed:
        calendar_changed(
            start=freeze.since,
            end=FAR_FUTURE,
            systems=None,
            reason=f"change freeze switched {'on' if active else 'off'}",
            kinds=(),
        )
    return freeze

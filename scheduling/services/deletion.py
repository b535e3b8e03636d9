"""Administrators delete jobs (spam, a booking made to hurt), leaving no trace in feeds.

Cancelling is the normal way out of a job and keeps its history; deleting
removes the row, its occurrences, reviews, audit trail and pending
notifications. The calendar change it records says who deleted what, and the
jobs the deleted one refused or flagged are re-evaluated.
"""

import logging
from datetime import datetime

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from scheduling.choices import FINISHED_STATUSES
from scheduling.db import retry_on_conflict
from scheduling.errors import NotAllowed
from scheduling.services import transitions
from scheduling.services.calendar import calendar_change_record, calendar_changed
from scheduling.timeline.services import timeline_refresh_job

logger = logging.getLogger("clearway.audit")


# The cascade rewrites rows of other jobs (findings naming this one), which
# their own writes may hold: a deadlock is retried, as for every job write.
@retry_on_conflict
def maintenance_job_delete(*, job_id: int, by: User, now: datetime | None = None) -> None:
    """Delete a job for good; administrators (staff) only."""
    if not getattr(by, "is_staff", False):
        raise NotAllowed("Only administrators can delete a job; cancel it instead.")
    now = now or timezone.now()
    with transaction.atomic():
        job = transitions.lock_job(job_id)
        occurrences = list(job.occurrences.order_by("start").values_list("start", "end"))
        systems = sorted(job.impacted_systems.values_list("slug", flat=True))
        summary = f"job #{job.pk} '{job.title}' of {job.team.slug} deleted by {by.get_username()}"
        was_live = job.status not in FINISHED_STATUSES
        job.delete()
        # Its rows in the timeline name it by source, not by a foreign key.
        timeline_refresh_job(job_id=job_id)
        if was_live and occurrences:
            calendar_changed(
                start=occurrences[0][0],
                end=max(end for _, end in occurrences),
                systems=systems,
                reason=summary,
            )
        else:
            # Nothing to re-evaluate, but the feeds' ETag must change at once.
            calendar_change_record(reason=summary)
    logger.info("%s at %s", summary, now.isoformat())

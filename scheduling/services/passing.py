"""Jobs let go by a window that has passed.

A recurring job conflicted (or sent to review) by what stood in one of its
windows is evaluated on the windows it has left only when something changes
under them. When nothing does, the window that held it ends and it stays held:
its gate closed for every window still to come. A scheduled sweep
(`scheduling.tasks.reevaluate_passed`) evaluates such jobs again, and the
usual two-way re-evaluation brings back what that window took away.
"""

from datetime import datetime

from django.utils import timezone

from scheduling.selectors import jobs_held_by_passed_occurrences
from scheduling.services.reevaluation import maintenance_job_reevaluate

REASON = "a window it was held by has passed"


def jobs_reevaluate_passed(*, now: datetime | None = None) -> list[int]:
    """Evaluate again every job held by a finding of a window that has ended; return their ids."""
    now = now or timezone.now()
    job_ids = jobs_held_by_passed_occurrences(now=now)
    for job_id in job_ids:
        maintenance_job_reevaluate(job_id=job_id, reason=REASON, now=now)
    return job_ids

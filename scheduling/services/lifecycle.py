"""A job's way through review (filled in by the workflow)."""

from datetime import datetime

from django.db import transaction

from scheduling.models import MaintenanceJob
from scheduling.services.jobs import maintenance_job_evaluate


@transaction.atomic
def maintenance_job_reevaluate(*, job_id: int, reason: str, now: datetime | None = None) -> None:
    job = MaintenanceJob.objects.select_for_update().filter(pk=job_id).first()
    if job is None:
        return
    maintenance_job_evaluate(job=job, now=now)

"""Pages of the operations app: the job page's "ask to stop" button."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from operations.services.runs import run_stop_request
from scheduling.errors import DomainError


@login_required
@require_POST
def run_stop(request, pk: int, run: int):
    try:
        run_stop_request(
            job_id=pk, run_id=run, reason=request.POST.get("reason", ""), user=request.user
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Run #{run} was asked to stop at its next heartbeat.")
    return redirect(f"{reverse('scheduling:job-detail', args=[pk])}#run-{run}")

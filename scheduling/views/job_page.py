"""A job's page and the actions on it: submit, review, cancel, done."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from scheduling import gate
from scheduling.choices import FINISHED_STATUSES, JobStatus, ReviewStatus
from scheduling.errors import Conflict, DomainError, NotAllowed
from scheduling.forms import CancelForm, ReviewForm, SubmitForm
from scheduling.models import MaintenanceJob
from scheduling.selectors import is_member, jobs_with_details
from scheduling.services.reviews import maintenance_job_review
from scheduling.services.submission import maintenance_job_submit
from scheduling.services.transitions import (
    SUBMITTABLE,
    maintenance_job_cancel,
    maintenance_job_done,
)
from scheduling.views.common import add_domain_error
from scheduling.views.findings import finding_rows, slot_rows


def _reviewable(job: MaintenanceJob, user) -> list:
    """The viewer's teams' open review requests on this job, in its current round."""
    if job.status != JobStatus.PENDING or job.team.members.filter(pk=user.pk).exists():
        return []
    return [
        review
        for review in job.reviews.all()
        if review.round == job.review_round
        and review.status == ReviewStatus.PENDING
        and is_member(user, review.team)
    ]


def _page(request, job: MaintenanceJob, *, status: int = 200, **forms):
    now = timezone.now()
    requester = is_member(request.user, job.team)
    last_end = job.occurrences.order_by("-end").values_list("end", flat=True).first() or job.end
    review_forms = [
        (
            review,
            forms.get(f"review_{review.team.slug}")
            or ReviewForm(initial={"team": review.team.slug}),
        )
        for review in _reviewable(job, request.user)
    ]
    gate_url = f"{settings.SITE_URL}/api/v1/jobs/{job.pk}/gate"
    context = {
        "job": job,
        "findings": finding_rows(job.findings),
        "reviews": sorted(job.reviews.all(), key=lambda r: (-r.round, r.team.slug)),
        "history": list(job.history.all()),
        "occurrences": list(job.occurrences.all()[:12]),
        "occurrence_count": job.occurrences.count(),
        "gate": gate.gate(job=gate.job_snapshot(job_id=job.pk), at=now),
        "gate_url": gate_url,
        "curl": f'curl --fail-with-body -H "Authorization: Bearer $CLEARWAY_TOKEN" {gate_url}',
        "can_submit": requester and job.status in SUBMITTABLE and last_end > now,
        "can_edit": requester
        and (job.status not in FINISHED_STATUSES or job.status == JobStatus.REJECTED),
        "can_cancel": requester and job.status not in FINISHED_STATUSES and last_end > now,
        "can_done": requester and job.status == JobStatus.APPROVED and last_end <= now,
        "submit_form": forms.get("submit")
        or SubmitForm(initial={"emergency": job.emergency, "justification": job.justification}),
        "cancel_form": forms.get("cancel") or CancelForm(),
        "review_forms": review_forms,
        "refusal": forms.get("refusal"),
    }
    return render(request, "scheduling/job_detail.html", context, status=status)


@login_required
def detail(request, pk: int):
    return _page(request, get_object_or_404(jobs_with_details(), pk=pk))


def _fail(request, pk: int, exc: DomainError, **forms):
    """Show the job again with the error beside the form that caused it."""
    job = get_object_or_404(jobs_with_details(), pk=pk)
    if not forms:
        messages.error(request, exc.message)
        return redirect("scheduling:job-detail", pk=pk)
    return _page(request, job, status=exc.status, **forms)


@login_required
@require_POST
def submit(request, pk: int):
    form = SubmitForm(request.POST)
    if not form.is_valid():
        return _page(
            request, get_object_or_404(jobs_with_details(), pk=pk), status=400, submit=form
        )
    try:
        job = maintenance_job_submit(
            job_id=pk,
            by=request.user,
            emergency=form.cleaned_data["emergency"],
            justification=form.cleaned_data["justification"],
        )
    except Conflict as exc:
        if exc.code != "refused":
            return _fail(request, pk, exc)
        refusal = {
            "message": exc.message,
            "findings": finding_rows(exc.details.get("findings", [])),
            "slots": slot_rows(exc.details.get("next_clear", [])),
        }
        return _fail(request, pk, exc, submit=form, refusal=refusal)
    except NotAllowed as exc:
        return _fail(request, pk, exc)
    except DomainError as exc:
        add_domain_error(form, exc)
        return _fail(request, pk, exc, submit=form)
    messages.success(request, f"Job #{job.pk} is {job.get_status_display().lower()}.")
    return redirect("scheduling:job-detail", pk=pk)


@login_required
@require_POST
def review(request, pk: int):
    form = ReviewForm(request.POST)
    if not form.is_valid():
        job = get_object_or_404(jobs_with_details(), pk=pk)
        return _page(request, job, status=400, **{f"review_{request.POST.get('team')}": form})
    data = form.cleaned_data
    try:
        job = maintenance_job_review(
            job_id=pk,
            team=data["team"],
            by=request.user,
            approve=data["decision"] == "approve",
            comment=data["comment"],
        )
    except DomainError as exc:
        return _fail(request, pk, exc)
    verdict = "approved" if data["decision"] == "approve" else "rejected"
    messages.success(
        request, f"You {verdict} job #{pk}; it is now {job.get_status_display().lower()}."
    )
    if request.POST.get("back") == "inbox":
        return redirect("scheduling:review-inbox")
    return redirect("scheduling:job-detail", pk=pk)


@login_required
@require_POST
def cancel(request, pk: int):
    form = CancelForm(request.POST)
    if not form.is_valid():
        return _page(
            request, get_object_or_404(jobs_with_details(), pk=pk), status=400, cancel=form
        )
    try:
        maintenance_job_cancel(job_id=pk, by=request.user, reason=form.cleaned_data["reason"])
    except DomainError as exc:
        return _fail(request, pk, exc)
    messages.success(request, f"Job #{pk} is cancelled.")
    return redirect("scheduling:job-detail", pk=pk)


@login_required
@require_POST
def done(request, pk: int):
    try:
        maintenance_job_done(job_id=pk, by=request.user)
    except DomainError as exc:
        return _fail(request, pk, exc)
    messages.success(request, f"Job #{pk} is done.")
    return redirect("scheduling:job-detail", pk=pk)

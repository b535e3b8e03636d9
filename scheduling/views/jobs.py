"""Booking, editing and reading jobs. Writes go through the job services."""

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from scheduling import recurrence
from scheduling.choices import FindingKind, JobStatus
from scheduling.errors import Conflict, DomainError, InvalidInput
from scheduling.forms import JobForm, RecurrenceForm, local_value
from scheduling.instants import instant_errors, instant_problem
from scheduling.models import MaintenanceJob, System, Team
from scheduling.selectors import is_member, jobs_with_details
from scheduling.services.submission import maintenance_job_book, maintenance_job_update
from scheduling.views.common import add_domain_error, bookable_teams, require, viewer_zone
from scheduling.views.findings import finding_rows, slot_rows

PREVIEW_OCCURRENCES = 6


def _dependents() -> dict[str, list[str]]:
    """Direct dependents of each system, for the booking page's impacted list."""
    edges: dict[str, list[str]] = {}
    through = System.depends_on.through
    for dependent, needed in through.objects.values_list("from_system__slug", "to_system__slug"):
        edges.setdefault(needed, []).append(dependent)
    return edges


def _form_context(request, form, **extra):
    return {
        "form": form,
        "dependents": _dependents(),
        "kind_labels": dict(FindingKind.choices),
        **extra,
    }


@login_required
def job_list(request):
    teams = list(request.user.teams.all())
    jobs = (
        MaintenanceJob.objects.filter(team__in=teams)
        .select_related("team")
        .prefetch_related("systems")
        .order_by("-start")
    )
    status = request.GET.get("status", "")
    # Only a status filters: anything else (a NUL byte is a 500 on PostgreSQL)
    # lists every job, as "Any status" does.
    if status not in JobStatus.values:
        status = ""
    if status:
        jobs = jobs.filter(status=status)
    context = {
        "jobs": jobs[:200],
        "teams": teams,
        "status": status,
        "status_choices": JobStatus.choices,
    }
    return render(request, "scheduling/job_list.html", context)


def _initial(request) -> dict:
    zone = viewer_zone(request)
    start = (timezone.now().astimezone(zone) + timedelta(days=1)).replace(
        hour=9, minute=0, second=0, microsecond=0
    )
    return {
        "timezone": zone.key,
        "start": start.replace(tzinfo=None),
        "end": (start + timedelta(hours=2)).replace(tzinfo=None),
        "systems": request.GET.getlist("systems"),
        "recurrence": "none",
        "count": 4,
    }


@login_required
@require_http_methods(["GET", "POST"])
def book(request):
    teams = bookable_teams(request.user)
    require(bool(teams), "Only members of a team can book maintenance.")
    queryset = Team.objects.filter(pk__in=[t.pk for t in teams])
    form = JobForm(request.POST or None, teams=queryset, initial=_initial(request))
    refusal = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            # A refused submission leaves no stray draft behind, and the page
            # shows everything typed again with the explanation.
            job = maintenance_job_book(
                team=data["team"],
                title=data["title"],
                description=data["description"],
                systems=[s.slug for s in data["systems"]],
                start=data["start"],
                end=data["end"],
                timezone=data["timezone"],
                rrule=data["rule"],
                impact=data["impact"],
                emergency=data["emergency"],
                justification=data["justification"],
                by=request.user,
                submit=request.POST.get("action") != "draft",
            )
        except Conflict as exc:
            refusal = _refusal(exc)
            if refusal is None:
                add_domain_error(form, exc)
        except DomainError as exc:
            add_domain_error(form, exc, rename={"rrule": form.rule_field, "team": "team"})
        else:
            messages.success(request, f"Job #{job.pk} is {job.get_status_display().lower()}.")
            return redirect("scheduling:job-detail", pk=job.pk)
    status = 409 if refusal else 400 if form.errors else 200
    context = _form_context(request, form, refusal=refusal, editing=False)
    return render(request, "scheduling/job_form.html", context, status=status)


def _refusal(exc: Conflict) -> dict | None:
    if exc.code != "refused":
        return None
    return {
        "message": exc.message,
        "findings": finding_rows(exc.details.get("findings", [])),
        "slots": slot_rows(exc.details.get("next_clear", [])),
    }


@login_required
@require_http_methods(["GET", "POST"])
def edit(request, pk: int):
    job = get_object_or_404(jobs_with_details(), pk=pk)
    require(is_member(request.user, job.team), f"Only members of {job.team.name} can edit it.")
    initial = {
        "title": job.title,
        "description": job.description,
        "systems": [s.slug for s in job.systems.all()],
        "start": local_value(job.start, job.timezone),
        "end": local_value(job.end, job.timezone),
        "timezone": job.timezone,
        "recurrence": "custom" if job.rrule else "none",
        "rrule": job.rrule,
        "impact": job.impact,
        **_proposed_window(request, job.timezone),
    }
    form = JobForm(request.POST or None, teams=Team.objects.none(), editing=True, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            maintenance_job_update(
                job_id=job.pk,
                by=request.user,
                title=data["title"],
                description=data["description"],
                systems=[s.slug for s in data["systems"]],
                start=data["start"],
                end=data["end"],
                timezone_name=data["timezone"],
                rrule=data["rule"],
                impact=data["impact"],
            )
        except DomainError as exc:
            add_domain_error(form, exc, rename={"rrule": form.rule_field})
        else:
            messages.success(request, f"Job #{job.pk} is saved.")
            return redirect("scheduling:job-detail", pk=job.pk)
    context = _form_context(request, form, job=job, editing=True)
    return render(request, "scheduling/job_form.html", context, status=400 if form.errors else 200)


def _proposed_window(request, zone_name: str) -> dict:
    """A suggested slot (?start=&end=, ISO instants) as wall times in the job's zone."""
    try:
        start = datetime.fromisoformat(request.GET["start"])
        end = datetime.fromisoformat(request.GET["end"])
    except (KeyError, ValueError):
        return {}
    # A hand-edited link may name an instant the zone cannot show (year 1, 9999):
    # the page then opens without a suggestion rather than failing.
    if instant_problem(start) or instant_problem(end):
        return {}
    return {"start": local_value(start, zone_name), "end": local_value(end, zone_name)}


@login_required
@require_GET
def preview(request):
    """The first occurrences of a window and its rule, as the booking page types them.

    Also answers the first window in UTC, so the page's live check can ask
    /api/v1/checks without doing zone arithmetic in the browser.
    """
    form = RecurrenceForm(request.GET)
    if not form.is_valid():
        return JsonResponse({"errors": form.errors.get_json_data()}, status=400)
    data = form.cleaned_data
    start, end, rule = data["start"], data["end"], data["rule"]
    if problems := instant_errors({"start": start, "end": end}):
        return JsonResponse(
            {"errors": {field: _error(field, text[0])[field] for field, text in problems.items()}},
            status=400,
        )
    if start >= end:
        return JsonResponse(
            {"errors": _error("end", "The end must be after the start.")}, status=400
        )
    try:
        if rule:
            recurrence.validate_rule(
                rrule_text=rule,
                start=start,
                end=end,
                zone_name=data["timezone"],
                cap=settings.CLEARWAY_MAX_JOB_OCCURRENCES,
                bounded=True,
            )
            windows = [
                (o.start, o.end)
                for o in recurrence.expand(
                    rrule_text=rule,
                    start=start,
                    end=end,
                    zone_name=data["timezone"],
                    cap=settings.CLEARWAY_MAX_JOB_OCCURRENCES,
                )
            ]
        else:
            windows = [(start, end)]
    except InvalidInput as exc:
        field = form.rule_field if "rrule" in exc.fields else next(iter(exc.fields), "rrule")
        return JsonResponse(
            {"errors": _error(field, exc.fields.get("rrule", [exc.message])[0])}, status=400
        )
    zone = viewer_zone(request)
    return JsonResponse(
        {
            "start": start.isoformat(),
            "end": end.isoformat(),
            "rule": rule,
            "total": len(windows),
            "occurrences": [
                {"start": s.isoformat(), "end": e.isoformat(), "label": _label(s, e, zone)}
                for s, e in windows[:PREVIEW_OCCURRENCES]
            ],
        }
    )


def _error(field: str, message: str) -> dict:
    return {field: [{"message": message, "code": "invalid"}]}


def _label(start: datetime, end: datetime, zone) -> str:
    lo, hi = start.astimezone(zone), end.astimezone(zone)
    tail = f"{hi:%H:%M}" if lo.date() == hi.date() else f"{hi:%a %d %b %Y %H:%M}"
    return f"{lo:%a %d %b %Y %H:%M} \N{EN DASH} {tail} ({zone.key})"

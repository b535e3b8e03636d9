"""Blackout pages: administrators configure them; everyone may read one (findings link here)."""

from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from blackouts.forms import BlackoutForm
from blackouts.models import Blackout
from blackouts.selectors import blackouts_with_systems
from blackouts.services import blackout_create, blackout_delete, blackout_update
from scheduling.errors import DomainError
from scheduling.forms import local_value
from scheduling.views.common import add_domain_error, require, viewer_zone_name

ADMINS_ONLY = "Only administrators configure blackouts."


@login_required
def blackout_list(request):
    """Everyone signed in reads the blackouts (as the API allows); administrators change them."""
    now = timezone.now()
    rows = [
        {
            "blackout": blackout,
            "next": blackout.occurrences.filter(end__gt=now).order_by("start").first(),
        }
        for blackout in blackouts_with_systems()
    ]
    context = {"rows": rows, "can_change": request.user.is_staff}
    return render(request, "blackouts/list.html", context)


@login_required
def blackout_detail(request, pk: int):
    blackout = get_object_or_404(blackouts_with_systems(), pk=pk)
    upcoming = blackout.occurrences.filter(end__gt=timezone.now()).order_by("start")[:10]
    exceptions = [datetime.fromisoformat(value) for value in blackout.exdates]
    context = {"blackout": blackout, "upcoming": upcoming, "exceptions": exceptions}
    return render(request, "blackouts/detail.html", context)


def _save(request, form: BlackoutForm, blackout: Blackout | None):
    arguments = form.service_arguments()
    try:
        if blackout is None:
            blackout = blackout_create(by=request.user, **arguments)
        else:
            blackout = blackout_update(blackout=blackout, **arguments)
    except DomainError as exc:
        add_domain_error(form, exc)
        return None
    return blackout


@login_required
@require_http_methods(["GET", "POST"])
def blackout_form(request, pk: int | None = None):
    require(request.user.is_staff, ADMINS_ONLY)
    blackout = get_object_or_404(blackouts_with_systems(), pk=pk) if pk else None
    initial = _initial(blackout) if blackout else {"timezone": viewer_zone_name(request)}
    form = BlackoutForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        saved = _save(request, form, blackout)
        if saved is not None:
            messages.success(
                request, f"Blackout '{saved.title}' is saved; affected jobs are re-checked."
            )
            return redirect("blackouts:blackout-detail", pk=saved.pk)
    context = {"form": form, "blackout": blackout}
    return render(request, "blackouts/form.html", context, status=400 if form.errors else 200)


def _initial(blackout: Blackout) -> dict:
    zone = blackout.timezone
    return {
        "title": blackout.title,
        "reason": blackout.reason,
        "team": blackout.team.slug,
        "systems": [s.slug for s in blackout.systems.all()],
        "severity": blackout.severity,
        "start": local_value(blackout.start, zone),
        "end": local_value(blackout.end, zone),
        "timezone": zone,
        "rrule": blackout.rrule,
        "exdates": "\n".join(
            f"{local_value(datetime.fromisoformat(x), zone):%Y-%m-%d %H:%M}"
            for x in blackout.exdates
        ),
    }


@login_required
@require_http_methods(["GET", "POST"])
def blackout_delete_view(request, pk: int):
    require(request.user.is_staff, ADMINS_ONLY)
    blackout = get_object_or_404(blackouts_with_systems(), pk=pk)
    if request.method == "POST":
        title = blackout.title
        blackout_delete(blackout=blackout)
        messages.success(request, f"Blackout '{title}' is deleted; affected jobs are re-checked.")
        return redirect("blackouts:blackout-list")
    return render(request, "blackouts/confirm_delete.html", {"blackout": blackout})

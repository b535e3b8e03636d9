"""Administrators' pages: the freeze switch and the systems catalogue."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from scheduling.errors import DomainError
from scheduling.forms import FreezeForm, FreezeScheduleForm
from scheduling.freezes import freeze_list
from scheduling.models import System
from scheduling.services.freeze import freeze_cancel, freeze_get, freeze_schedule, freeze_set
from scheduling.views.common import add_domain_error, require, viewer_zone_name


@login_required
@require_http_methods(["GET", "POST"])
def freeze(request):
    """Everyone may see the freezes (refusals link here); staff switch and schedule them."""
    current = freeze_get()
    switch = FreezeForm(
        request.POST if request.POST and request.POST.get("form") != "schedule" else None,
        initial={"active": current.active, "reason": current.reason},
    )
    schedule = FreezeScheduleForm(
        request.POST if request.POST.get("form") == "schedule" else None,
        initial={"timezone": viewer_zone_name(request)},
        # Its fields must not share ids (and labels) with the switch's `reason`.
        prefix="schedule",
    )
    if request.method == "POST":
        require(request.user.is_staff, "Only administrators can freeze change.")
        if request.POST.get("form") == "schedule":
            if schedule.is_valid():
                try:
                    freeze_schedule(by=request.user, **schedule.service_arguments())
                except DomainError as exc:
                    add_domain_error(schedule, exc)
                else:
                    messages.success(request, "The freeze is scheduled.")
                    return redirect("scheduling:freeze")
        elif switch.is_valid():
            freeze_set(
                active=switch.cleaned_data["active"],
                reason=switch.cleaned_data["reason"],
                by=request.user,
            )
            state = "on" if switch.cleaned_data["active"] else "off"
            messages.success(request, f"The change freeze is {state}.")
            return redirect("scheduling:freeze")
    context = {
        "freeze": current,
        "form": switch,
        "schedule": schedule,
        "freezes": freeze_list(now=timezone.now()),
        "now": timezone.now(),
    }
    errors = switch.errors or schedule.errors
    return render(request, "scheduling/freeze.html", context, status=400 if errors else 200)


@login_required
@require_http_methods(["POST"])
def freeze_call_off(request, pk: int):
    require(request.user.is_staff, "Only administrators can call a freeze off.")
    try:
        freeze_cancel(freeze_id=pk, by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Freeze #{pk} is called off.")
    return redirect("scheduling:freeze")


@login_required
def systems(request):
    catalogue = System.objects.select_related("team").prefetch_related("depends_on", "dependents")
    return render(request, "scheduling/systems.html", {"systems": catalogue})


@login_required
def system_detail(request, slug: str):
    system = get_object_or_404(
        System.objects.select_related("team").prefetch_related("depends_on", "dependents"),
        slug=slug,
    )
    windows = system.allowed_windows.order_by("start")[:8] if system.window_rrule else []
    return render(request, "scheduling/system_detail.html", {"system": system, "windows": windows})

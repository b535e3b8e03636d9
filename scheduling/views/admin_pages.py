"""Administrators' pages: the freeze switch and the systems catalogue."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from scheduling.forms import FreezeForm
from scheduling.models import System
from scheduling.services.freeze import freeze_get, freeze_set
from scheduling.views.common import require


@login_required
@require_http_methods(["GET", "POST"])
def freeze(request):
    """Everyone may see whether change is frozen (refusals link here); staff switch it."""
    current = freeze_get()
    form = FreezeForm(
        request.POST or None, initial={"active": current.active, "reason": current.reason}
    )
    if request.method == "POST":
        require(request.user.is_staff, "Only administrators can switch the freeze.")
        if form.is_valid():
            freeze_set(
                active=form.cleaned_data["active"],
                reason=form.cleaned_data["reason"],
                by=request.user,
            )
            state = "on" if form.cleaned_data["active"] else "off"
            messages.success(request, f"The change freeze is {state}.")
            return redirect("scheduling:freeze")
    return render(
        request,
        "scheduling/freeze.html",
        {"freeze": current, "form": form},
        status=400 if form.errors else 200,
    )


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

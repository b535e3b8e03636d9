"""Standard changes: a team defines its pre-approved templates and books jobs from them."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from scheduling.choices import Impact
from scheduling.errors import Conflict, DomainError
from scheduling.forms import LocalDateTimeField, ZoneField, zoned
from scheduling.models import StandardChange, System, Team
from scheduling.services.standard import maintenance_job_book_standard, standard_change_create
from scheduling.views.common import add_domain_error, bookable_teams, require, viewer_zone_name
from scheduling.views.findings import finding_rows


class StandardChangeForm(forms.Form):
    team = forms.ModelChoiceField(queryset=Team.objects.none(), to_field_name="slug")
    title = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    systems = forms.ModelMultipleChoiceField(
        queryset=System.objects.order_by("slug"),
        to_field_name="slug",
        widget=forms.CheckboxSelectMultiple,
    )
    impact = forms.ChoiceField(choices=Impact.choices, initial=Impact.DEGRADED)
    max_duration = forms.DurationField(
        label="Maximum duration", help_text="e.g. 02:00:00 for two hours."
    )
    timezone = ZoneField(help_text="The zone a recurrence repeats in.")
    rrule = forms.CharField(
        label="Repeats (RRULE)",
        required=False,
        max_length=500,
        help_text="Optional, with COUNT or UNTIL, e.g. FREQ=WEEKLY;COUNT=4.",
    )

    def __init__(self, *args, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams


class BookStandardForm(forms.Form):
    start = LocalDateTimeField(label="Start")
    timezone = ZoneField()

    def clean(self):
        data = super().clean()
        if data.get("timezone"):
            data["start"] = zoned(data.get("start"), data["timezone"])
        return data


def _teams(user):
    return Team.objects.filter(pk__in=[t.pk for t in bookable_teams(user)])


@login_required
@require_http_methods(["GET", "POST"])
def standard_changes(request):
    teams = _teams(request.user)
    require(teams.exists(), "Standard changes are for members of a team.")
    form = StandardChangeForm(
        request.POST or None, teams=teams, initial={"timezone": viewer_zone_name(request)}
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data["systems"] = [system.slug for system in data["systems"]]
        try:
            standard_change_create(by=request.user, **data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, f"'{data['title']}' is a standard change of your team.")
            return redirect("scheduling:standard-changes")
    templates = (
        StandardChange.objects.filter(team__in=teams, active=True)
        .select_related("team")
        .prefetch_related("systems")
    )
    context = {
        "form": form,
        "rows": [
            {"template": t, "book": BookStandardForm(initial={"timezone": t.timezone})}
            for t in templates
        ],
    }
    status = 400 if form.errors else 200
    return render(request, "scheduling/standard_changes.html", context, status=status)


@login_required
@require_POST
def standard_change_book(request, pk: int):
    template = get_object_or_404(StandardChange, pk=pk, active=True)
    form = BookStandardForm(request.POST)
    refusal = None
    if form.is_valid():
        try:
            job = maintenance_job_book_standard(
                template_id=template.pk, start=form.cleaned_data["start"], by=request.user
            )
        except Conflict as exc:
            if exc.code == "refused":
                refusal = {
                    "message": exc.message,
                    "findings": finding_rows(exc.details["findings"]),
                }
            else:
                # A window already ended, say: the form shows why, as booking a job does.
                add_domain_error(form, exc)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, f"Job #{job.pk} is {job.get_status_display().lower()}.")
            return redirect("scheduling:job-detail", pk=job.pk)
    context = {"template": template, "book": form, "refusal": refusal}
    status = 409 if refusal else 400
    return render(request, "scheduling/standard_change_book.html", context, status=status)

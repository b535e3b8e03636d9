"""The blackout form: wall-clock times in a named zone, a rule and its exceptions."""

from django import forms
from django.conf import settings

from scheduling.choices import Severity
from scheduling.forms import LocalDateTimeField, LocalWindowForm, ZoneField
from scheduling.models import System, Team


class BlackoutForm(LocalWindowForm):
    title = forms.CharField(max_length=200)
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    team = forms.ModelChoiceField(
        queryset=Team.objects.order_by("name"), to_field_name="slug", empty_label=None
    )
    systems = forms.ModelMultipleChoiceField(
        queryset=System.objects.order_by("slug"),
        to_field_name="slug",
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Leave every box empty for a blackout on all systems.",
    )
    severity = forms.ChoiceField(
        choices=Severity.choices,
        widget=forms.RadioSelect,
        initial=Severity.REFUSE,
        help_text="Refuse blocks jobs; flag lets them through with extra review.",
    )
    start = LocalDateTimeField(label="Start")
    end = LocalDateTimeField(label="End")
    timezone = ZoneField(help_text="Start, end and exceptions are wall-clock times in this zone.")
    rrule = forms.CharField(
        label="Repeats (RRULE)",
        required=False,
        max_length=500,
        help_text="Optional, e.g. FREQ=WEEKLY;BYDAY=FR. Leave empty for a one-off blackout.",
    )
    exdates = forms.CharField(
        label="Exceptions",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Occurrence starts to skip, one per line, e.g. 2030-12-27 12:00 "
        "(a date alone skips that day's occurrence).",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        admins = Team.objects.filter(slug=settings.CLEARWAY_ADMIN_TEAM).first()
        if admins and not self.initial.get("team"):
            self.initial["team"] = admins.slug

    def clean(self):
        data = super().clean()
        self.zone_window(data)
        lines = (data.get("exdates") or "").splitlines()
        # Passed on as typed: the service parses them in the blackout's zone.
        data["exdate_list"] = [line.strip() for line in lines if line.strip()]
        return data

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "title": data["title"],
            "reason": data["reason"],
            "team": data["team"],
            "systems": [system.slug for system in data["systems"]],
            "severity": data["severity"],
            "start": data["start"],
            "end": data["end"],
            "timezone": data["timezone"],
            "rrule": data["rrule"].strip(),
            "exdates": data["exdate_list"],
        }

"""Deadline, upload and feed forms. The services validate; these only parse."""

from datetime import timedelta

from django import forms
from django.conf import settings

from deadlines.choices import FeedFormat
from deadlines.limits import COHORT_SIZE_MAX, COHORT_SIZE_RULE
from deadlines.models import Cohort
from scheduling.forms import LocalDateTimeField, LocalTimesForm, ZoneField
from scheduling.models import System, Team


def _systems_field(**kwargs) -> forms.ModelMultipleChoiceField:
    return forms.ModelMultipleChoiceField(
        queryset=System.objects.order_by("slug"),
        to_field_name="slug",
        widget=forms.CheckboxSelectMultiple,
        **kwargs,
    )


def _cohort_size_field(**kwargs) -> forms.IntegerField:
    # The bound every way in shares: a size past the database column's range
    # was a 500 on PostgreSQL instead of an error beside the field.
    return forms.IntegerField(
        min_value=1,
        max_value=COHORT_SIZE_MAX,
        required=False,
        error_messages={"min_value": COHORT_SIZE_RULE, "max_value": COHORT_SIZE_RULE},
        **kwargs,
    )


class TeamScopedForm(forms.Form):
    """A form whose team choice is limited to the teams the viewer publishes for."""

    def __init__(self, *args, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams
        if not self.initial.get("team") and teams.exists():
            self.initial["team"] = teams.first().slug


class DeadlineForm(TeamScopedForm, LocalTimesForm):
    local_time_fields = ("due",)
    title = forms.CharField(max_length=300)
    course = forms.CharField(max_length=200, required=False)
    team = forms.ModelChoiceField(
        queryset=Team.objects.none(), to_field_name="slug", empty_label=None
    )
    cohort = forms.ModelChoiceField(
        queryset=Cohort.objects.order_by("name"),
        required=False,
        empty_label="No named cohort",
        help_text="A named cohort brings its size; you may still override it below.",
    )
    cohort_size = _cohort_size_field(label="Students", help_text="How many students are due.")
    due = LocalDateTimeField(label="Due")
    timezone = ZoneField()
    due_fold = forms.CharField(required=False, widget=forms.RadioSelect, label="Which due time")
    systems = _systems_field(
        required=False,
        help_text="Systems the deadline's traffic hits (default: "
        + ", ".join(settings.CLEARWAY_DEFAULT_DEADLINE_SYSTEMS)
        + ").",
    )

    def clean(self):
        data = super().clean()
        self.zone_times(data)
        return data


class UploadForm(TeamScopedForm):
    file = forms.FileField(help_text="A .csv (title, due, cohort, cohort_size, ...) or an .ics.")
    source = forms.CharField(
        max_length=200,
        required=False,
        label="Source name",
        help_text="e.g. CS201 spring. Uploading the same source again updates its deadlines "
        "in place (default: the file's name).",
    )
    team = forms.ModelChoiceField(
        queryset=Team.objects.none(), to_field_name="slug", empty_label=None
    )
    cohort = forms.CharField(
        max_length=200, required=False, help_text="Default for rows without one."
    )
    cohort_size = _cohort_size_field(help_text="Default for rows without one.")
    systems = _systems_field(required=False, help_text="Default for rows without their own.")
    timezone = ZoneField(help_text="For times in the file without an offset.")


INTERVALS = [
    (5, "5 minutes"),
    (15, "15 minutes"),
    (60, "1 hour"),
    (360, "6 hours"),
    (1440, "1 day"),
]


class FeedForm(TeamScopedForm):
    url = forms.CharField(
        label="Feed URL", max_length=2000, help_text="The LMS calendar export, http(s)://…"
    )
    format = forms.ChoiceField(choices=FeedFormat.choices, initial=FeedFormat.ICS)
    team = forms.ModelChoiceField(
        queryset=Team.objects.none(), to_field_name="slug", empty_label=None
    )
    cohort = forms.CharField(max_length=200, required=False, help_text="Default cohort name.")
    cohort_size = _cohort_size_field(
        label="Default cohort size",
        help_text="LMS exports carry no cohort size; events may override it.",
    )
    systems = _systems_field(required=False)
    interval = forms.TypedChoiceField(label="Sync every", choices=INTERVALS, coerce=int, initial=60)
    enabled = forms.BooleanField(required=False, initial=True, label="Sync this feed")

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "url": data["url"],
            "team": data["team"],
            "cohort": data["cohort"],
            "cohort_size": data["cohort_size"],
            "systems": [s.slug for s in data["systems"]],
            "interval": timedelta(minutes=data["interval"]),
            "enabled": data["enabled"],
        }

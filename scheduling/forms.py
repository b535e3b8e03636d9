"""Forms for the pages. They parse what people type; the services decide what is valid.

Times are typed as wall-clock values in a named zone (`datetime-local` plus a
zone select) and made aware with that zone here, never with the server's.
"""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from django import forms

from scheduling import instants, local_times
from scheduling.choices import Impact
from scheduling.instants import EARLIEST, LATEST, RANGE_MESSAGE
from scheduling.models import System
from scheduling.zones import zone_choices

LOCAL_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]

RECURRENCE_PRESETS = {
    "none": ("Does not repeat", ""),
    "weekly": ("Every week", "FREQ=WEEKLY"),
    "monthly": ("Every month", "FREQ=MONTHLY"),
    "quarterly": ("Every quarter (3 months)", "FREQ=MONTHLY;INTERVAL=3"),
    "custom": ("Custom RRULE", ""),
}


class LocalDateTimeField(forms.DateTimeField):
    """A wall-clock date and time, kept naive until the form knows its zone."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")

    def __init__(self, **kwargs):
        kwargs.setdefault("input_formats", LOCAL_FORMATS)
        super().__init__(**kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, datetime):
            return value.replace(tzinfo=None)
        for fmt in self.input_formats:
            try:
                return datetime.strptime(str(value).strip(), fmt)  # noqa: DTZ007 - zoned in clean()
            except ValueError:
                continue
        raise forms.ValidationError("Enter a date and time, e.g. 2030-12-10 08:00.", "invalid")

    def validate(self, value):
        super().validate(value)
        # The API's years, checked on the wall time before any zone is applied:
        # 9999-12-31 22:00 in a zone behind UTC is no instant at all, and
        # converting it overflowed into a 500.
        if value is not None and not EARLIEST.year <= value.year < LATEST.year:
            raise forms.ValidationError(RANGE_MESSAGE, "range")


class ZoneField(forms.ChoiceField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", "Time zone")
        super().__init__(choices=zone_choices, **kwargs)


def zoned(value: datetime | None, zone_name: str, *, fold: int = 0) -> datetime | None:
    return value.replace(tzinfo=ZoneInfo(zone_name), fold=fold) if value is not None else None


class LocalTimesForm(forms.Form):
    """Wall-clock times typed in a zone (the `timezone` field), DST changes included.

    A time the clocks skip is an error naming the change; a time they repeat
    needs a choice, offered in `<field>_fold` (shown only then). Every form
    with a typed time goes through `zone_times`, so they all say the same.
    """

    local_time_fields: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self._offer_initial_folds()

    def _offer_initial_folds(self) -> None:
        """On an edit page, show which of two repeated times is saved, so saving keeps it."""
        zone = self.initial.get("timezone")
        for name in self.local_time_fields:
            value = self.initial.get(name)
            if not zone or not isinstance(value, datetime):
                continue
            found = local_times.problem(value.replace(fold=0), zone)
            if found is not None and found.kind == "repeated":
                self.fields[f"{name}_fold"].widget.choices = list(found.choices)
                # local_value keeps zoneinfo's fold: 1 is the second of the two.
                self.initial.setdefault(f"{name}_fold", str(value.fold))

    def zone_times(self, data: dict) -> None:
        """Make each local time field aware in the chosen zone, or say why it cannot be."""
        zone = data.get("timezone")
        if not zone:
            return
        for name in self.local_time_fields:
            value = data.get(name)
            if value is None:
                continue
            fold = data.get(f"{name}_fold") or ""
            # Before any arithmetic across the offset: 23:00 on 31 Dec 9999 in
            # Los Angeles is year 10000 in UTC, and comparing it overflowed (a 500).
            if instants.out_of_range(zoned(value, zone)):
                self.add_error(name, instants.RANGE_MESSAGE)
                data[name] = None
                continue
            found = local_times.problem(value, zone)
            if found is not None and found.kind == "repeated" and fold in ("0", "1"):
                found = None
            if found is not None:
                self.fields[f"{name}_fold"].widget.choices = list(found.choices)
                self.add_error(name, found.message)
                data[name] = None
                continue
            data[name] = zoned(value, zone, fold=int(fold) if fold in ("0", "1") else 0)


class LocalWindowForm(LocalTimesForm):
    """A start and end typed as wall-clock times in a zone: the end after the start."""

    local_time_fields = ("start", "end")
    start_fold = forms.CharField(required=False, widget=forms.RadioSelect, label="Which start")
    end_fold = forms.CharField(required=False, widget=forms.RadioSelect, label="Which end")

    def zone_window(self, data: dict) -> None:
        """Make `start` and `end` aware in the chosen zone, or say why they cannot be."""
        self.zone_times(data)
        start, end = data.get("start"), data.get("end")
        # Aware datetimes in one zone compare by wall time: compare instants.
        if start and end and start.astimezone(UTC) >= end.astimezone(UTC):
            self.add_error("end", "The end must be after the start.")


def local_value(moment: datetime, zone_name: str) -> datetime:
    """An aware instant as the naive wall time a datetime-local input shows."""
    return moment.astimezone(ZoneInfo(zone_name)).replace(tzinfo=None)


class RecurrenceForm(LocalWindowForm):
    """A first window and how it repeats: shared by the booking form and its preview."""

    start = LocalDateTimeField(label="Start")
    end = LocalDateTimeField(label="End")
    timezone = ZoneField(help_text="Start and end are wall-clock times in this zone.")
    recurrence = forms.ChoiceField(
        label="Repeats",
        choices=[(key, label) for key, (label, _) in RECURRENCE_PRESETS.items()],
        initial="none",
    )
    count = forms.IntegerField(
        label="Number of occurrences",
        min_value=2,
        max_value=500,
        required=False,
        initial=4,
        help_text="For the weekly, monthly and quarterly presets.",
    )
    rrule = forms.CharField(
        label="Custom RRULE",
        required=False,
        max_length=500,
        help_text="RFC 5545 without the RRULE: prefix, e.g. FREQ=MONTHLY;BYDAY=1SU;COUNT=6.",
    )

    def clean(self):
        data = super().clean()
        self.zone_window(data)
        data["rule"] = self.rule_text(data)
        return data

    def rule_text(self, data) -> str:
        preset = data.get("recurrence") or "none"
        # A field its own check refused (too long, not a number) keeps that one
        # error: "Type a rule" under a rule just typed said the wrong thing.
        if preset == "custom":
            if not (data.get("rrule") or "").strip() and "rrule" not in self.errors:
                self.add_error("rrule", "Type a rule, or choose a preset.")
            return (data.get("rrule") or "").strip()
        base = RECURRENCE_PRESETS.get(preset, ("", ""))[1]
        if not base:
            return ""
        count = data.get("count")
        if not count:
            if "count" not in self.errors:
                self.add_error("count", "Say how many times it repeats (2 to 500).")
            return ""
        return f"{base};COUNT={count}"

    @property
    def rule_field(self) -> str:
        """Where an error about the rule belongs: next to what the person typed."""
        return "rrule" if self.data.get("recurrence") == "custom" else "count"


class JobForm(RecurrenceForm):
    team = forms.ModelChoiceField(queryset=None, empty_label=None, to_field_name="slug")
    title = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    systems = forms.ModelMultipleChoiceField(
        queryset=System.objects.select_related("team").order_by("slug"),
        to_field_name="slug",
        widget=forms.CheckboxSelectMultiple,
        help_text="Systems that depend on these are impacted too.",
    )
    impact = forms.ChoiceField(choices=Impact.choices, initial=Impact.EXCLUSIVE_LOCK)
    emergency = forms.BooleanField(
        required=False, label="This is an emergency (overrides a refusal after review)"
    )
    justification = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="Why it cannot wait for a clear window. The administrators review it.",
    )

    field_order = [
        "team",
        "title",
        "description",
        "systems",
        "start",
        "end",
        "timezone",
        "recurrence",
        "count",
        "rrule",
        "impact",
        "emergency",
        "justification",
    ]

    def __init__(self, *args, teams, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams
        if editing:
            # A job keeps its team; an emergency is declared when submitting.
            for name in ("team", "emergency", "justification"):
                del self.fields[name]


class ReviewForm(forms.Form):
    team = forms.SlugField(widget=forms.HiddenInput)
    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("reject", "Reject")])
    comment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, label="Comment"
    )


class SubmitForm(forms.Form):
    emergency = forms.BooleanField(required=False, label="Submit as an emergency")
    justification = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


class CancelForm(forms.Form):
    reason = forms.CharField(max_length=500, required=False, label="Why cancel (optional)")


class FreezeForm(forms.Form):
    active = forms.BooleanField(required=False, label="Freeze all change")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


class FreezeScheduleForm(LocalWindowForm):
    """A scheduled freeze: wall-clock times in a named zone, an optional rule and scope."""

    reason = forms.CharField(max_length=500)
    start = LocalDateTimeField(label="Start")
    end = LocalDateTimeField(
        label="End", required=False, help_text="Leave empty for a freeze until it is lifted."
    )
    timezone = ZoneField(help_text="Start and end are wall-clock times in this zone.")
    rrule = forms.CharField(
        label="Repeats (RRULE)",
        required=False,
        max_length=500,
        help_text="Optional, e.g. FREQ=WEEKLY;BYDAY=FR. Leave empty for a one-off freeze.",
    )
    systems = forms.ModelMultipleChoiceField(
        queryset=System.objects.order_by("slug"),
        to_field_name="slug",
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Leave every box empty to freeze all systems.",
    )

    def clean(self):
        data = super().clean()
        # The checks every typed time gets: skipped or repeated by the clocks,
        # outside 1970-2999 once converted, the end after the start.
        self.zone_window(data)
        return data

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "reason": data["reason"],
            "start": data["start"],
            "end": data.get("end"),
            "timezone": data["timezone"],
            "rrule": data.get("rrule", ""),
            "systems": [system.slug for system in data.get("systems", [])],
        }


class FeedTokenForm(forms.Form):
    name = forms.CharField(max_length=100, label="Name", help_text="e.g. Work laptop calendar")


class ZoneForm(forms.Form):
    zone = ZoneField(label="Show times in")
    next = forms.CharField(required=False, widget=forms.HiddenInput)

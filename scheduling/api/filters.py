from datetime import UTC

import django_filters
from django import forms
from django_filters.fields import IsoDateTimeField

from scheduling.choices import JobStatus
from scheduling.models import MaintenanceJob


class _UtcInstantField(IsoDateTimeField):
    def to_python(self, value):
        moment = super().to_python(value)
        if moment is None or moment.tzinfo is None:
            return moment
        try:
            return moment.astimezone(UTC)
        except OverflowError:
            raise forms.ValidationError("Give a time between 1970 and 2999.") from None


class InstantFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 instant, queried in UTC.

    Python accepts UTC offsets up to +-23:59, PostgreSQL only up to +-15:59:
    ?before=2030-12-10T08:00-22:27 was a 500 until it was sent as UTC.
    """

    field_class = _UtcInstantField


class JobFilter(django_filters.FilterSet):
    system = django_filters.CharFilter(
        field_name="impacted_systems__slug", distinct=True, help_text="Jobs impacting this system."
    )
    team = django_filters.CharFilter(field_name="team__slug")
    status = django_filters.MultipleChoiceFilter(choices=JobStatus.choices)
    after = InstantFilter(
        field_name="occurrences__end",
        lookup_expr="gt",
        distinct=True,
        help_text="Jobs with a window ending after this instant.",
    )
    before = InstantFilter(
        field_name="occurrences__start",
        lookup_expr="lt",
        distinct=True,
        help_text="Jobs with a window starting before this instant.",
    )

    class Meta:
        model = MaintenanceJob
        fields = ["system", "team", "status", "after", "before"]

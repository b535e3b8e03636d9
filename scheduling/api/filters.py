import django_filters

from scheduling.choices import JobStatus
from scheduling.models import MaintenanceJob


class JobFilter(django_filters.FilterSet):
    system = django_filters.CharFilter(
        field_name="impacted_systems__slug", distinct=True, help_text="Jobs impacting this system."
    )
    team = django_filters.CharFilter(field_name="team__slug")
    status = django_filters.MultipleChoiceFilter(choices=JobStatus.choices)
    after = django_filters.IsoDateTimeFilter(
        field_name="occurrences__end",
        lookup_expr="gt",
        distinct=True,
        help_text="Jobs with a window ending after this instant.",
    )
    before = django_filters.IsoDateTimeFilter(
        field_name="occurrences__start",
        lookup_expr="lt",
        distinct=True,
        help_text="Jobs with a window starting before this instant.",
    )

    class Meta:
        model = MaintenanceJob
        fields = ["system", "team", "status", "after", "before"]

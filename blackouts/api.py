"""The blackouts API: everyone reads, administrators configure."""

import django_filters
from django.db.models import Q
from rest_framework import serializers, viewsets

from blackouts.models import Blackout
from blackouts.selectors import blackouts_with_systems
from blackouts.services import blackout_create, blackout_delete, blackout_update
from scheduling.api.fields import ZONE_HELP, InstantField, TimeZoneField, localise, zone_default
from scheduling.api.filters import InstantFilter
from scheduling.api.permissions import ReadOrAdminWrite
from scheduling.choices import Severity
from scheduling.models import System, Team


class BlackoutSerializer(serializers.ModelSerializer):
    team = serializers.SlugRelatedField(slug_field="slug", queryset=Team.objects.all())
    systems = serializers.SlugRelatedField(
        many=True, slug_field="slug", queryset=System.objects.all(), required=False
    )
    start = InstantField()
    end = InstantField()
    # No field default, or a PUT without a zone moves the blackout to UTC (zone_default).
    timezone = TimeZoneField(required=False, help_text=ZONE_HELP)
    exdates = serializers.ListField(child=InstantField(), required=False)
    severity = serializers.ChoiceField(choices=Severity.choices, default=Severity.REFUSE)

    class Meta:
        model = Blackout
        fields = [
            "id",
            "title",
            "reason",
            "team",
            "systems",
            "start",
            "end",
            "timezone",
            "rrule",
            "exdates",
            "severity",
            "version",
        ]
        read_only_fields = ["version"]

    def validate(self, attrs):
        attrs.setdefault("timezone", zone_default(self.instance))
        localise(attrs, "start", "end")
        if "exdates" in attrs:
            holder = {"timezone": attrs["timezone"]}
            attrs["exdates"] = [
                localise({**holder, "exdates": value}, "exdates")["exdates"]
                for value in attrs["exdates"]
            ]
        return attrs


class BlackoutFilter(django_filters.FilterSet):
    system = django_filters.CharFilter(method="filter_system", help_text="Blackouts on a system.")
    team = django_filters.CharFilter(field_name="team__slug")
    severity = django_filters.ChoiceFilter(choices=Severity.choices)
    after = InstantFilter(field_name="occurrences__end", lookup_expr="gt", distinct=True)
    before = InstantFilter(field_name="occurrences__start", lookup_expr="lt", distinct=True)

    class Meta:
        model = Blackout
        fields = ["system", "team", "severity", "after", "before"]

    def filter_system(self, queryset, name, value):
        return queryset.filter(Q(applies_to_all=True) | Q(systems__slug=value)).distinct()


class BlackoutViewSet(viewsets.ModelViewSet):
    queryset = blackouts_with_systems()
    serializer_class = BlackoutSerializer
    permission_classes = [ReadOrAdminWrite]
    filterset_class = BlackoutFilter

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        data["systems"] = [system.slug for system in data.get("systems", [])]
        serializer.instance = blackout_create(by=self.request.user, **data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        if "systems" in data:
            data["systems"] = [system.slug for system in data["systems"]]
        serializer.instance = blackout_update(blackout=serializer.instance, **data)

    def perform_destroy(self, instance):
        blackout_delete(blackout=instance)

"""Scheduled change freezes: everyone reads, administrators schedule and call them off.

`/api/v1/freeze` (views.FreezeView) stays the manual switch; a freeze it
starts is listed here too.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from scheduling.api.fields import InstantField, TimeZoneField, localise
from scheduling.api.permissions import ReadOrAdminWrite
from scheduling.models import Freeze, System
from scheduling.services.freeze import freeze_cancel, freeze_schedule


class FreezePeriodSerializer(serializers.ModelSerializer):
    systems = serializers.SlugRelatedField(
        many=True, slug_field="slug", queryset=System.objects.all(), required=False
    )
    start = InstantField()
    end = InstantField(required=False, allow_null=True, default=None)
    timezone = TimeZoneField(required=False, default="UTC")
    rrule = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)
    created_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    lifted_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    cancelled_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = Freeze
        fields = [
            "id",
            "reason",
            "systems",
            "start",
            "end",
            "timezone",
            "rrule",
            "created_by",
            "created_at",
            "lifted_by",
            "lifted_at",
            "cancelled_by",
            "cancelled_at",
        ]
        read_only_fields = ["created_at", "lifted_at", "cancelled_at"]

    def validate(self, attrs):
        return localise(attrs, "start", "end")


class FreezePeriodViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Freezes, newest first. DELETE calls one off; the row stays as history."""

    queryset = (
        Freeze.objects.select_related("created_by", "lifted_by", "cancelled_by")
        .prefetch_related("systems")
        .order_by("-start", "-pk")
    )
    serializer_class = FreezePeriodSerializer
    permission_classes = [ReadOrAdminWrite]

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        data["systems"] = [system.slug for system in data.get("systems", [])]
        # Missing or blank, the service says why on the field.
        data.setdefault("reason", "")
        serializer.instance = freeze_schedule(by=self.request.user, **data)

    @extend_schema(responses={200: FreezePeriodSerializer})
    def destroy(self, request, *args, **kwargs):
        cancelled = freeze_cancel(freeze_id=self.get_object().pk, by=request.user)
        return Response(self.get_serializer(cancelled).data, status=status.HTTP_200_OK)

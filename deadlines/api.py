"""The deadlines API: curriculum staff publish, edit and withdraw deadlines."""

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.response import Response

from deadlines.entries import split_systems
from deadlines.limits import COHORT_SIZE_MAX
from deadlines.models import Cohort, Deadline
from deadlines.preview import deadline_preview
from deadlines.selectors import deadlines_with_details
from deadlines.services import (
    check_can_publish,
    deadline_create,
    deadline_update,
    deadline_withdraw,
)
from deadlines.uploads import MAX_UPLOAD_BYTES, deadlines_upload
from scheduling.api.auth import TokenScopes, session_only_message
from scheduling.api.fields import InstantField, TimeZoneField, localise
from scheduling.api.filters import InstantFilter
from scheduling.errors import InvalidInput
from scheduling.models import System, Team
from scheduling.selectors import is_member


class DeadlineSerializer(serializers.ModelSerializer):
    team = serializers.SlugRelatedField(slug_field="slug", queryset=Team.objects.all())
    systems = serializers.SlugRelatedField(
        many=True, slug_field="slug", queryset=System.objects.all(), required=False
    )
    cohort = serializers.CharField(
        source="cohort_name", required=False, allow_blank=True, max_length=200
    )
    cohort_size = serializers.IntegerField(min_value=1, max_value=COHORT_SIZE_MAX, required=False)
    due = InstantField()
    timezone = TimeZoneField(
        write_only=True,
        required=False,
        default="UTC",
        help_text="Zone of `due` when it has no offset.",
    )

    class Meta:
        model = Deadline
        fields = [
            "id",
            "title",
            "course",
            "cohort",
            "cohort_size",
            "due",
            "timezone",
            "systems",
            "team",
            "source",
            "external_uid",
            "feed",
            "withdrawn_at",
            "version",
        ]
        read_only_fields = ["source", "external_uid", "feed", "withdrawn_at", "version"]

    def validate(self, attrs):
        localise(attrs, "due")
        attrs.pop("timezone", None)
        name = attrs.pop("cohort_name", None)
        if name == "":
            # "No named cohort", as on the page: the deadline leaves its cohort, so
            # a later resize of that cohort no longer changes this deadline's size.
            attrs["cohort"] = None
        if name:
            cohort = Cohort.objects.filter(name=name).first()
            if cohort is None and "cohort_size" not in attrs:
                raise serializers.ValidationError(
                    {"cohort": f"There is no cohort {name!r}; give cohort_size to describe it."}
                )
            attrs["cohort"] = cohort
            if cohort is None:
                attrs["new_cohort_name"] = name
        elif self.instance is None and "cohort_size" not in attrs:
            raise serializers.ValidationError({"cohort_size": "Give a cohort or a cohort size."})
        return attrs


class DeadlineUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="A .csv (see the README for its columns) or an .ics.")
    team = serializers.SlugRelatedField(slug_field="slug", queryset=Team.objects.all())
    cohort = serializers.CharField(required=False, allow_blank=True, max_length=200)
    cohort_size = serializers.IntegerField(required=False, min_value=1, max_value=COHORT_SIZE_MAX)
    systems = serializers.CharField(
        required=False, allow_blank=True, help_text="Slugs separated by spaces or semicolons."
    )
    timezone = TimeZoneField(required=False, default="UTC")
    source = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="Names what the file is (default: its file name). Uploading the same "
        "source again updates its deadlines in place and withdraws rows it no longer has.",
    )

    def validate_file(self, file):
        if file.size > MAX_UPLOAD_BYTES:
            raise serializers.ValidationError(f"Upload at most {MAX_UPLOAD_BYTES:,} bytes.")
        return file


class CanPublishDeadlines(BasePermission):
    """Curriculum staff (members of the owning team) publish; everyone reads."""

    message = "Only members of the deadline's team can change it."

    def has_permission(self, request, view) -> bool:
        if not TokenScopes().has_permission(request, view):
            self.message = session_only_message(view, request.method)
            return False
        return bool(request.user and request.user.is_authenticated)

    def has_object_permission(self, request, view, obj) -> bool:
        return (
            request.method in SAFE_METHODS
            or request.user.is_staff
            or is_member(request.user, obj.team)
        )


class DeadlineFilter(django_filters.FilterSet):
    system = django_filters.CharFilter(field_name="systems__slug", distinct=True)
    team = django_filters.CharFilter(field_name="team__slug")
    cohort = django_filters.CharFilter(field_name="cohort__name")
    after = InstantFilter(field_name="due", lookup_expr="gte")
    before = InstantFilter(field_name="due", lookup_expr="lt")
    withdrawn = django_filters.BooleanFilter(
        field_name="withdrawn_at", lookup_expr="isnull", exclude=True
    )

    class Meta:
        model = Deadline
        fields = ["system", "team", "cohort", "after", "before", "withdrawn"]


class DeadlineViewSet(viewsets.ModelViewSet):
    queryset = deadlines_with_details()
    serializer_class = DeadlineSerializer
    permission_classes = [CanPublishDeadlines]
    filterset_class = DeadlineFilter

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = deadline_create(
            team=data["team"],
            title=data["title"],
            course=data.get("course", ""),
            cohort=data.get("cohort"),
            new_cohort_name=data.get("new_cohort_name", ""),
            cohort_size=data.get("cohort_size"),
            due=data["due"],
            systems=_named_systems(data),
            by=self.request.user,
        )

    @extend_schema(request=DeadlineSerializer, responses={200: None})
    @action(detail=False, methods=["post"])
    def preview(self, request):
        """What publishing this deadline (the same body as create) would do to booked jobs."""
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        impacts = deadline_preview(
            team=data["team"],
            title=data["title"],
            course=data.get("course", ""),
            cohort=data.get("cohort"),
            cohort_size=data.get("cohort_size"),
            due=data["due"],
            systems=_named_systems(data),
            by=request.user,
        )
        return Response({"jobs": [impact.as_dict() for impact in impacts]})

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        if data.pop("new_cohort_name", None):
            raise InvalidInput.for_field("cohort", "Create the cohort first.")
        if "systems" in data:
            data["systems"] = [system.slug for system in data["systems"]]
        serializer.instance = deadline_update(
            deadline=serializer.instance, by=self.request.user, **data
        )

    def perform_destroy(self, instance):
        # Withdrawn, not deleted: calendars and history still need it.
        deadline_withdraw(deadline=instance, by=self.request.user)

    @extend_schema(request=DeadlineUploadSerializer, responses={201: DeadlineSerializer(many=True)})
    @action(detail=False, methods=["post"], parser_classes=[MultiPartParser, FormParser])
    def upload(self, request):
        """Publish every deadline in a CSV or .ics file, or none (errors name row and field)."""
        form = DeadlineUploadSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        check_can_publish(by=request.user, team=data["team"])
        summary = deadlines_upload(
            team=data["team"],
            filename=data["file"].name or "",
            data=data["file"].read(MAX_UPLOAD_BYTES + 1),
            source_name=data.get("source", ""),
            cohort=data.get("cohort", "").strip(),
            cohort_size=data.get("cohort_size"),
            systems=split_systems(data.get("systems", "")),
            timezone_name=data["timezone"],
            by=request.user,
        )
        context = self.get_serializer_context()
        body = DeadlineSerializer(summary.current, many=True, context=context).data
        return Response(
            {**summary.counts(), "deadlines": body},
            status=status.HTTP_201_CREATED if summary.created else status.HTTP_200_OK,
        )


def _named_systems(data: dict) -> list[str] | None:
    """The systems a body names; None (the defaults) only when it names none at all.

    `"systems": []` is refused as it is on update, not read as the defaults.
    """
    if "systems" not in data:
        return None
    return [system.slug for system in data["systems"]]

"""Standard changes: a team's pre-approved templates, and booking a job from one."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from scheduling.api.auth import JOBS, TokenScopes, request_token
from scheduling.api.fields import InstantField, IsoDurationField, TimeZoneField
from scheduling.api.serializers import JobSerializer
from scheduling.api.views import _saved
from scheduling.choices import Impact
from scheduling.models import ApiToken, StandardChange, System, Team
from scheduling.services.standard import maintenance_job_book_standard, standard_change_create


class StandardChangeSerializer(serializers.ModelSerializer):
    team = serializers.SlugRelatedField(slug_field="slug", queryset=Team.objects.all())
    systems = serializers.SlugRelatedField(
        many=True, slug_field="slug", queryset=System.objects.all()
    )
    impact = serializers.ChoiceField(choices=Impact.choices)
    max_duration = IsoDurationField(help_text="ISO 8601, e.g. PT2H.")
    timezone = TimeZoneField(required=False, default="UTC")
    rrule = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)

    class Meta:
        model = StandardChange
        fields = [
            "id",
            "team",
            "title",
            "description",
            "systems",
            "impact",
            "max_duration",
            "timezone",
            "rrule",
            "active",
        ]
        read_only_fields = ["active"]


class BookStandardSerializer(serializers.Serializer):
    start = InstantField()
    end = InstantField(required=False, help_text="Default: start + the maximum duration.")


class StandardChangeViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Everyone signed in reads them; a team's members define and book its own."""

    queryset = (
        StandardChange.objects.filter(active=True)
        .select_related("team")
        .prefetch_related("systems")
    )
    serializer_class = StandardChangeSerializer
    permission_classes = [IsAuthenticated, TokenScopes]
    token_scopes = JOBS

    def get_queryset(self):
        templates = super().get_queryset()
        if isinstance(self.request.auth, ApiToken):
            return templates.filter(team_id=self.request.auth.team_id)
        return templates

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        data["systems"] = [system.slug for system in data["systems"]]
        serializer.instance = standard_change_create(by=self.request.user, **data)

    @extend_schema(request=BookStandardSerializer, responses={201: JobSerializer})
    @action(detail=True, methods=["post"])
    def book(self, request, pk=None):
        """Book and submit a job from this standard change: approved at once when clear."""
        body = BookStandardSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        job = maintenance_job_book_standard(
            template_id=self.get_object().pk,
            start=body.validated_data["start"],
            end=body.validated_data.get("end"),
            by=request.user,
            token=request_token(request),
        )
        context = self.get_serializer_context()
        return Response(JobSerializer(_saved(job), context=context).data, status.HTTP_201_CREATED)

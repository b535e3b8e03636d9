"""The REST API for the catalogue, jobs and the freeze. Views call services."""

from django.db.models import prefetch_related_objects
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from scheduling.api import serializers as s
from scheduling.api.auth import JOBS, TokenScopes, request_token
from scheduling.api.filters import JobFilter
from scheduling.api.permissions import ReadOrAdminWrite
from scheduling.errors import InvalidInput
from scheduling.models import ApiToken, MaintenanceJob, System, Team
from scheduling.selectors import job_detail_relations, jobs_with_details
from scheduling.services import catalogue, freeze, reviews, submission, transitions
from scheduling.services.deletion import maintenance_job_delete


# Members see their team's webhook URL (often a secret): never cached.
@method_decorator(never_cache, name="dispatch")
class TeamViewSet(viewsets.ModelViewSet):
    queryset = Team.objects.prefetch_related("members")
    serializer_class = s.TeamSerializer
    permission_classes = [ReadOrAdminWrite]
    lookup_field = "slug"

    def perform_create(self, serializer):
        serializer.instance = catalogue.team_create(**serializer.validated_data)
        self.created_team = serializer.instance

    def create(self, request, *args, **kwargs):
        response = super().create(request, *args, **kwargs)
        # The signing secret, in this answer only (rotate it to see a new one).
        response.data["webhook_secret"] = self.created_team.new_webhook_secret
        return response

    def perform_update(self, serializer):
        serializer.instance = catalogue.team_update(
            team=serializer.instance, **serializer.validated_data
        )


class SystemViewSet(viewsets.ModelViewSet):
    queryset = System.objects.select_related("team").prefetch_related("depends_on")
    serializer_class = s.SystemSerializer
    permission_classes = [ReadOrAdminWrite]
    lookup_field = "slug"
    filterset_fields = {"team__slug": ["exact"]}

    def _save(self, serializer, system=None):
        data = dict(serializer.validated_data)
        current = system or System()
        serializer.instance = catalogue.system_save(
            system=system,
            slug=data.get("slug", current.slug),
            name=data.get("name", current.name),
            team=data.get("team") or current.team,
            depends_on=[d.slug for d in data["depends_on"]]
            if "depends_on" in data
            else ([d.slug for d in current.depends_on.all()] if system else []),
            window_rrule=data.get("window_rrule", current.window_rrule),
            window_start_time=data.get("window_start_time", current.window_start_time),
            window_duration=data.get("window_duration", current.window_duration),
            window_timezone=data.get("window_timezone", current.window_timezone),
        )

    def perform_create(self, serializer):
        self._save(serializer)

    def perform_update(self, serializer):
        self._save(serializer, system=serializer.instance)

    def perform_destroy(self, instance):
        catalogue.system_delete(system=instance)


def _saved(job: MaintenanceJob) -> MaintenanceJob:
    """The job a service saved and returned, with what the answer shows.

    Not read again from the jobs table: once the change is committed, a lock
    taken on that table (a migration, VACUUM FULL) would turn the answer into
    a 503 for a change that was made, and the client would repeat it.
    """
    prefetch_related_objects([job], *job_detail_relations())
    return job


class JobViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Maintenance jobs. Create books a draft; `submit` sends it to review.

    DELETE is for administrators (a spam booking); everyone else cancels.
    """

    serializer_class = s.JobSerializer
    permission_classes = [IsAuthenticated, TokenScopes]
    filterset_class = JobFilter
    token_scopes = JOBS

    def get_queryset(self):
        jobs = jobs_with_details()
        if isinstance(self.request.auth, ApiToken):
            # A CI token sees its own team's jobs only.
            return jobs.filter(team_id=self.request.auth.team_id)
        return jobs

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = submission.maintenance_job_book(
            team=data["team"],
            title=data["title"],
            description=data.get("description", ""),
            systems=[system.slug for system in data["systems"]],
            start=data["start"],
            end=data["end"],
            timezone=data.get("timezone", "UTC"),
            rrule=data.get("rrule", ""),
            impact=data["impact"],
            emergency=data.get("emergency", False),
            justification=data.get("justification", ""),
            by=self.request.user,
            submit=False,
            token=request_token(self.request),
        )

    def perform_update(self, serializer):
        data = serializer.validated_data
        job = serializer.instance
        if "team" in data and data["team"] != job.team:
            raise InvalidInput.for_field("team", "A job cannot move to another team.")
        updated = submission.maintenance_job_update(
            job_id=job.pk,
            by=self.request.user,
            title=data.get("title"),
            description=data.get("description"),
            systems=[system.slug for system in data["systems"]] if "systems" in data else None,
            start=data.get("start"),
            end=data.get("end"),
            timezone_name=data.get("timezone"),
            rrule=data.get("rrule"),
            impact=data.get("impact"),
            emergency=data.get("emergency"),
            justification=data.get("justification"),
            token=request_token(self.request),
        )
        # The service saved its own copy of the job (and may have moved it back
        # to review): answer with that, not with the stale instance DRF holds.
        serializer.instance = _saved(updated)

    def perform_destroy(self, instance):
        maintenance_job_delete(job_id=instance.pk, by=self.request.user)

    def _answer(self, job: MaintenanceJob, code: int = status.HTTP_200_OK) -> Response:
        return Response(
            s.JobSerializer(_saved(job), context=self.get_serializer_context()).data, code
        )

    def _body(self, serializer_class):
        body = serializer_class(data=self.request.data)
        body.is_valid(raise_exception=True)
        return body.validated_data

    @extend_schema(
        request=s.SubmitSerializer,
        responses={
            200: s.JobSerializer,
            409: OpenApiResponse(description="Refused: decision, findings and next_clear."),
        },
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        job = self.get_object()
        data = self._body(s.SubmitSerializer)
        return self._answer(
            submission.maintenance_job_submit(
                job_id=job.pk, by=request.user, token=request_token(request), **data
            )
        )

    @extend_schema(request=s.ReviewActionSerializer, responses={200: s.JobSerializer})
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._review(approve=True)

    @extend_schema(request=s.ReviewActionSerializer, responses={200: s.JobSerializer})
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return self._review(approve=False)

    def _review(self, *, approve: bool) -> Response:
        job = self.get_object()
        data = self._body(s.ReviewActionSerializer)
        reviewed = reviews.maintenance_job_review(
            job_id=job.pk,
            team=data["team"],
            comment=data["comment"],
            approve=approve,
            by=self.request.user,
            token=request_token(self.request),
        )
        return self._answer(reviewed)

    @extend_schema(request=s.CancelSerializer, responses={200: s.JobSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        job = self.get_object()
        data = self._body(s.CancelSerializer)
        return self._answer(
            transitions.maintenance_job_cancel(
                job_id=job.pk, by=request.user, reason=data["reason"]
            )
        )

    @extend_schema(request=None, responses={200: s.JobSerializer})
    @action(detail=True, methods=["post"])
    def done(self, request, pk=None):
        job = self.get_object()
        return self._answer(transitions.maintenance_job_done(job_id=job.pk, by=request.user))


class FreezeView(GenericAPIView):
    """The organisation-wide change freeze: GET reads it, PUT (administrators) sets it."""

    serializer_class = s.FreezeSerializer
    permission_classes = [ReadOrAdminWrite]

    def get_object(self):
        # DRF's OPTIONS answer asks for the object the PUT would change; without
        # a queryset the default get_object failed an assertion: a 500.
        return freeze.freeze_get()

    def get(self, request):
        return Response(s.FreezeSerializer(freeze.freeze_get()).data)

    def put(self, request):
        body = s.FreezeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        current = freeze.freeze_set(
            active=body.validated_data["active"],
            reason=body.validated_data.get("reason", ""),
            by=request.user,
        )
        return Response(s.FreezeSerializer(current).data)

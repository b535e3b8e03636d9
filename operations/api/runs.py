"""POST /api/v1/jobs/{id}/runs (+ /{run}/heartbeat, /finish, /stop): CI reports its work.

Thin views: they read the request, name the caller (a user, or a team token)
and call operations.services.runs.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from operations.models import FINISHED
from operations.selectors import job_get, run_get, runs_of_job
from operations.services import runs
from scheduling.api.ci import ReasonSerializer
from scheduling.api.throttles import TokenRateThrottle
from scheduling.choices import TokenScope
from scheduling.models import ApiToken

RUN_SCOPES = {"POST": TokenScope.JOBS_RUN, "GET": TokenScope.JOBS_RUN}


class RunSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    job = serializers.IntegerField()
    status = serializers.CharField(help_text="running, succeeded, failed, aborted or lost")
    window = serializers.DictField(child=serializers.DateTimeField())
    started_at = serializers.DateTimeField()
    last_heartbeat_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    note = serializers.CharField(allow_blank=True)
    overrun = serializers.BooleanField()
    overrun_at = serializers.DateTimeField(allow_null=True)
    stop_requested = serializers.BooleanField()
    stop_requested_at = serializers.DateTimeField(allow_null=True)
    stop_reason = serializers.CharField(allow_blank=True)
    stop_requested_by = serializers.CharField(allow_blank=True)


class GateClosedSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="gate_closed")
    message = serializers.CharField()
    reasons = ReasonSerializer(many=True)


class HeartbeatSerializer(serializers.Serializer):
    stop = serializers.BooleanField(help_text="True: stop between batches, then finish the run.")
    reason = serializers.CharField(allow_blank=True, allow_null=True)
    run = RunSerializer()


class FinishRequestSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=[str(o) for o in FINISHED])
    note = serializers.CharField(required=False, allow_blank=True, max_length=4000, default="")


class StopRequestSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=runs.MAX_REASON)


def _token_team_id(request) -> int | None:
    return request.auth.team_id if isinstance(request.auth, ApiToken) else None


class RunView(APIView):
    throttle_classes = [TokenRateThrottle]
    token_scopes = RUN_SCOPES

    def _authorise(self, request, pk: int, run: int) -> None:
        job = job_get(job_id=int(pk))
        runs.check_may_report(job=job, user=request.user, token_team_id=_token_team_id(request))
        run_get(job_id=job.pk, run_id=int(run))


class RunStartView(RunView):
    @extend_schema(
        summary="Report that the job's work starts now (the gate must be open)",
        request=None,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                description="A retry with the same key returns the first run.",
            )
        ],
        responses={201: RunSerializer, 200: RunSerializer, 423: GateClosedSerializer},
    )
    def post(self, request, pk: int):
        run, created = runs.run_start(
            job_id=int(pk),
            user=request.user,
            token_team_id=_token_team_id(request),
            idempotency_key=request.headers.get("Idempotency-Key", ""),
        )
        return Response(
            runs.run_data(run), status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )

    @extend_schema(
        summary="The job's runs, latest first", responses={200: RunSerializer(many=True)}
    )
    def get(self, request, pk: int):
        job = job_get(job_id=int(pk))
        runs.check_may_report(job=job, user=request.user, token_team_id=_token_team_id(request))
        return Response([runs.run_data(run) for run in runs_of_job(job_id=job.pk)])


class RunHeartbeatView(RunView):
    @extend_schema(
        summary="The run is alive; the answer says whether to stop",
        request=None,
        responses={200: HeartbeatSerializer},
    )
    def post(self, request, pk: int, run: int):
        self._authorise(request, pk, run)
        answer = runs.run_heartbeat(job_id=int(pk), run_id=int(run))
        return Response(
            {
                "stop": answer.stop,
                "reason": answer.reason or None,
                "run": runs.run_data(answer.run),
            }
        )


class RunFinishView(RunView):
    @extend_schema(
        summary="Report how the run ended (succeeded, failed or aborted)",
        request=FinishRequestSerializer,
        responses={200: RunSerializer},
    )
    def post(self, request, pk: int, run: int):
        self._authorise(request, pk, run)
        body = FinishRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        finished = runs.run_finish(job_id=int(pk), run_id=int(run), **body.validated_data)
        return Response(runs.run_data(finished))


class RunStopView(RunView):
    @extend_schema(
        summary="Ask a running run to stop (its next heartbeat answers stop)",
        request=StopRequestSerializer,
        responses={200: RunSerializer},
    )
    def post(self, request, pk: int, run: int):
        body = StopRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        stopped = runs.run_stop_request(
            job_id=int(pk),
            run_id=int(run),
            reason=body.validated_data["reason"],
            user=request.user,
            token_team_id=_token_team_id(request),
        )
        return Response(runs.run_data(stopped))

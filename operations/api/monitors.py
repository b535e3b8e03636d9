"""/api/v1/systems/{slug}/monitor (administrators) and /api/v1/observations (everyone signed in).

The DSN is write-only: no answer ever carries it, only the database's name.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from operations.models import DatabaseMonitor, Observation, ObservationKind
from operations.selectors import observations_seen
from operations.services.monitors import database_monitor_delete, database_monitor_save
from scheduling.errors import InvalidInput, NotFound


class AdminsOnly(BasePermission):
    """Signed-in administrators; never a CI token (the DSN holds a password)."""

    message = "Only administrators can see or change monitoring connections."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_staff and request.auth is None)


class SignedIn(BasePermission):
    message = "Sign in to read observations; API tokens cannot."

    def has_permission(self, request, view) -> bool:
        return bool(
            request.user
            and request.user.is_authenticated
            and request.auth is None
            and request.method in SAFE_METHODS
        )


class MonitorRequestSerializer(serializers.Serializer):
    dsn = serializers.CharField(
        write_only=True,
        max_length=2000,
        help_text="postgresql://ROLE:PASSWORD@HOST:5432/DB with a read-only role; "
        "tested on save, stored encrypted, never shown again.",
    )
    enabled = serializers.BooleanField(default=True)


class MonitorSerializer(serializers.ModelSerializer):
    system = serializers.CharField(source="system.slug")

    class Meta:
        model = DatabaseMonitor
        fields = [
            "system",
            "database",
            "enabled",
            "last_sampled_at",
            "last_success_at",
            "last_error",
            "failing_since",
            "saturated_since",
            "connections",
            "max_connections",
            "lock_waiters",
        ]


class ObservationSerializer(serializers.ModelSerializer):
    system = serializers.CharField(source="system.slug")

    class Meta:
        model = Observation
        fields = [
            "id",
            "system",
            "kind",
            "first_seen_at",
            "last_seen_at",
            "database",
            "table",
            "mode",
            "pid",
            "application_name",
            "query_start",
            "held_since",
            "waiters",
            "connections",
            "max_connections",
            "detail",
            "job",
            "run",
            "unbooked",
            "alerted",
        ]


class MonitorView(APIView):
    permission_classes = [AdminsOnly]

    def _monitor(self, slug: str) -> DatabaseMonitor:
        monitor = DatabaseMonitor.objects.select_related("system").filter(system__slug=slug).first()
        if monitor is None:
            raise NotFound(f"System {slug!r} has no monitoring connection.")
        return monitor

    @extend_schema(
        summary="The system's monitoring connection (never its DSN)",
        responses={200: MonitorSerializer},
    )
    def get(self, request, slug: str):
        return Response(MonitorSerializer(self._monitor(slug)).data)

    @extend_schema(
        summary="Set the system's monitoring DSN (tested now, stored encrypted)",
        request=MonitorRequestSerializer,
        responses={200: MonitorSerializer},
    )
    def put(self, request, slug: str):
        body = MonitorRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        monitor = database_monitor_save(system=slug, **body.validated_data)
        return Response(MonitorSerializer(monitor).data)

    @extend_schema(summary="Stop watching the system's database", responses={204: None})
    def delete(self, request, slug: str):
        database_monitor_delete(system=slug)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ObservationListView(APIView):
    permission_classes = [SignedIn]

    @extend_schema(
        summary="What the monitors saw, latest first (?system=&kind=&unbooked=true)",
        responses={200: ObservationSerializer(many=True)},
    )
    def get(self, request):
        params = request.query_params
        kind = params.get("kind") or None
        if kind is not None and kind not in ObservationKind.values:
            # A misspelt filter answered every observation, as if it were not given.
            raise InvalidInput.for_field(
                "kind", f"kind must be one of {', '.join(ObservationKind.values)}."
            )
        unbooked = params.get("unbooked", "")
        if unbooked not in ("", "true", "false"):
            raise InvalidInput.for_field("unbooked", "unbooked must be true or false.")
        observations = observations_seen(
            system=params.get("system") or None, kind=kind, unbooked_only=unbooked == "true"
        )
        return Response(ObservationSerializer(observations, many=True).data)

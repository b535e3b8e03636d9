from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from scheduling.api.fields import (
    ZONE_HELP,
    InstantField,
    IsoDurationField,
    TimeZoneField,
    localise,
    zone_default,
)
from scheduling.choices import ChangeType, Impact
from scheduling.links import site_link
from scheduling.models import JobEvent, MaintenanceJob, ReviewRequest, System, Team
from scheduling.models.catalogue import webhook_address
from scheduling.selectors import manages_team_webhook
from scheduling.services.webhooks import webhook_url_masked


class TeamSerializer(serializers.ModelSerializer):
    members = serializers.SlugRelatedField(
        many=True, slug_field="username", queryset=get_user_model().objects.all(), required=False
    )
    email_addresses = serializers.ListField(child=serializers.EmailField(), required=False)

    class Meta:
        model = Team
        fields = [
            "slug",
            "name",
            "members",
            "email_addresses",
            "webhook_url",
            "webhook_format",
            "webhook_secret_created",
        ]
        # The secret itself is only ever in the answer that creates it
        # (POST /api/v1/teams/{slug}/webhook-secret).
        read_only_fields = ["webhook_secret_created"]
        # DRF drops a model URLField's own validators for its default schemes.
        extra_kwargs = {"webhook_url": {"validators": [webhook_address]}}

    def to_representation(self, team: Team) -> dict:
        data = super().to_representation(team)
        user = getattr(self.context.get("request"), "user", None)
        if not manages_team_webhook(user=user, team=team):
            if data.get("webhook_url"):
                data["webhook_url"] = webhook_url_masked(data["webhook_url"])
            # A team's addresses are personal too: its members and administrators only.
            data.pop("email_addresses", None)
        return data


@extend_schema_field(
    {"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$", "example": "02:00"}
)
class WallClockField(serializers.TimeField):
    """A local wall-clock time, answered as HH:MM.

    OpenAPI's `time` format is RFC 3339's, with seconds and an offset: the
    "02:00" every system answers did not match it (schemathesis found it).
    An offset or seconds are refused, not dropped: the window's `timezone`
    places it, and it is answered in whole minutes.
    """

    def to_internal_value(self, value):
        if isinstance(value, str) and any(sign in value for sign in "+-zZ"):
            raise serializers.ValidationError(
                "Give a wall-clock time such as 02:00, without a UTC offset: "
                "the window's timezone says where it is."
            )
        parsed = super().to_internal_value(value)
        if parsed.second or parsed.microsecond:
            raise serializers.ValidationError("Give the time in whole minutes, such as 02:30.")
        return parsed


class MaintenanceWindowSerializer(serializers.Serializer):
    rrule = serializers.CharField(max_length=500)
    start_time = WallClockField()
    duration = IsoDurationField()
    timezone = TimeZoneField()


@extend_schema_field(MaintenanceWindowSerializer(allow_null=True))
class MaintenanceWindowField(serializers.Field):
    """`null` or {rrule, start_time, duration, timezone}, read and written as one value."""

    def __init__(self, **kwargs):
        super().__init__(source="*", allow_null=True, required=False, **kwargs)

    def to_representation(self, system: System) -> dict | None:
        if not system.window_rrule:
            return None
        return {
            "rrule": system.window_rrule,
            "start_time": system.window_start_time.isoformat(timespec="minutes"),
            "duration": IsoDurationField().to_representation(system.window_duration),
            "timezone": system.window_timezone,
        }

    def validate_empty_values(self, data):
        if data is None:
            return True, {"window_rrule": ""}
        return super().validate_empty_values(data)

    def to_internal_value(self, data) -> dict:
        window = MaintenanceWindowSerializer(data=data)
        window.is_valid(raise_exception=True)
        value = window.validated_data
        return {
            "window_rrule": value["rrule"],
            "window_start_time": value["start_time"],
            "window_duration": value["duration"],
            "window_timezone": value["timezone"],
        }


class SystemSerializer(serializers.ModelSerializer):
    team = serializers.SlugRelatedField(slug_field="slug", queryset=Team.objects.all())
    depends_on = serializers.SlugRelatedField(
        many=True, slug_field="slug", queryset=System.objects.all(), required=False
    )
    maintenance_window = MaintenanceWindowField()

    class Meta:
        model = System
        fields = ["slug", "name", "team", "depends_on", "maintenance_window"]


class ReviewSerializer(serializers.ModelSerializer):
    team = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    decided_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = ReviewRequest
        fields = ["team", "round", "reason", "status", "comment", "decided_by", "decided_at"]


class JobEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_name", read_only=True)

    class Meta:
        model = JobEvent
        fields = [
            "at",
            "actor",
            "action",
            "from_status",
            "to_status",
            "decision",
            "reason",
            "findings",
        ]


class SiteLinkField(serializers.CharField):
    """A page's path as an address under SITE_URL: API answers are read off-site."""

    def to_representation(self, value) -> str:
        return site_link(super().to_representation(value))


class FindingSerializer(serializers.Serializer):
    kind = serializers.CharField()
    severity = serializers.CharField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    systems = serializers.ListField(child=serializers.CharField())
    title = serializers.CharField()
    message = serializers.CharField()
    sources = serializers.ListField(child=serializers.CharField())
    url = SiteLinkField()
    teams = serializers.ListField(child=serializers.CharField())
    occurrence = serializers.DateTimeField(allow_null=True)


class JobSerializer(serializers.ModelSerializer):
    team = serializers.SlugRelatedField(slug_field="slug", queryset=Team.objects.all())
    systems = serializers.SlugRelatedField(
        many=True, slug_field="slug", queryset=System.objects.all()
    )
    impacted_systems = serializers.SlugRelatedField(many=True, slug_field="slug", read_only=True)
    start = InstantField()
    end = InstantField()
    # No field default, or a PUT without a zone moves the job to UTC (zone_default).
    timezone = TimeZoneField(required=False, help_text=ZONE_HELP)
    impact = serializers.ChoiceField(choices=Impact.choices)
    findings = FindingSerializer(many=True, read_only=True)
    reviews = serializers.SerializerMethodField()
    history = JobEventSerializer(many=True, read_only=True)
    change_type = serializers.ChoiceField(choices=ChangeType.choices, read_only=True)
    template = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)

    class Meta:
        model = MaintenanceJob
        fields = [
            "id",
            "title",
            "description",
            "team",
            "systems",
            "impacted_systems",
            "start",
            "end",
            "timezone",
            "rrule",
            "impact",
            "emergency",
            "justification",
            "change_type",
            "template",
            "status",
            "decision",
            "findings",
            "evaluated_at",
            "reviews",
            "history",
            "version",
        ]
        read_only_fields = ["status", "decision", "evaluated_at", "version"]

    def get_reviews(self, job: MaintenanceJob) -> list[dict]:
        current = [r for r in job.reviews.all() if r.round == job.review_round]
        return ReviewSerializer(current, many=True).data

    def validate(self, attrs):
        attrs.setdefault("timezone", zone_default(self.instance))
        return localise(attrs, "start", "end")


class ReviewActionSerializer(serializers.Serializer):
    team = serializers.SlugField(help_text="The reviewing team's slug.")
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class SubmitSerializer(serializers.Serializer):
    emergency = serializers.BooleanField(required=False, allow_null=True, default=None)
    justification = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, default=None
    )


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class FreezeSerializer(serializers.Serializer):
    """The manual switch: `active` starts a freeze on every system now, or lifts it."""

    # PUT sets the freeze: without `active` it was a KeyError and a 500.
    active = serializers.BooleanField(required=True)
    reason = serializers.CharField(required=False, allow_blank=True, default="")
    # Null while the freeze is off.
    since = serializers.DateTimeField(read_only=True, allow_null=True)
    by = serializers.CharField(read_only=True, allow_null=True)

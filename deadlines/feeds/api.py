"""/api/v1/deadline-feeds: curriculum staff point Clearway at their LMS calendar."""

from urllib.parse import urlsplit, urlunsplit

from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from deadlines.api import CanPublishDeadlines
from deadlines.choices import FeedFormat
from deadlines.feeds.services import (
    deadline_feed_create,
    deadline_feed_delete,
    deadline_feed_update,
)
from deadlines.limits import COHORT_SIZE_MAX
from deadlines.models import DeadlineFeed
from deadlines.selectors import publishing_teams
from deadlines.services import check_can_publish
from scheduling.api.fields import IsoDurationField
from scheduling.models import System, Team
from scheduling.queue import enqueue

SYNC_STATE = [
    "next_sync_at",
    "last_attempt_at",
    "last_success_at",
    "last_error",
    "last_warnings",
    "deadline_count",
    "failing_since",
    "failure_count",
]


class DeadlineFeedSerializer(serializers.ModelSerializer):
    url = serializers.CharField(max_length=2000)
    team = serializers.SlugRelatedField(slug_field="slug", queryset=Team.objects.all())
    systems = serializers.SlugRelatedField(
        many=True, slug_field="slug", queryset=System.objects.all(), required=False
    )
    cohort = serializers.CharField(required=False, allow_blank=True, max_length=200)
    cohort_size = serializers.IntegerField(min_value=1, max_value=COHORT_SIZE_MAX)
    interval = IsoDurationField(required=False, help_text="ISO 8601, at least PT5M.")

    class Meta:
        model = DeadlineFeed
        fields = [
            "id",
            "url",
            "format",
            "team",
            "cohort",
            "cohort_size",
            "systems",
            "interval",
            "enabled",
            *SYNC_STATE,
        ]
        read_only_fields = SYNC_STATE

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if instance.team_id not in self.context.get("publishing_team_ids", ()):
            data["url"] = redacted_url(instance.url)
        return data


def redacted_url(url: str) -> str:
    """What another team may see of a feed URL: its scheme and host.

    LMS feed URLs carry a secret in the query (Moodle's authtoken), in the
    path (Canvas's /feeds/calendars/user_<secret>.ics) or as user:password
    before the host; only those who may publish for the feed's team (its
    curriculum staff, and administrators) see them.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = f"{host}:{port}" if port else host
    hidden = "/…" if parts.path.strip("/") or parts.query else ""
    return urlunsplit((parts.scheme, netloc, hidden, "", ""))


class CanManageFeeds(CanPublishDeadlines):
    message = "Only members of the feed's team can change it."


# Its answers show secrets (a new token, a feed URL with its token): never cached.
@method_decorator(never_cache, name="dispatch")
class DeadlineFeedViewSet(viewsets.ModelViewSet):
    queryset = DeadlineFeed.objects.select_related("team").prefetch_related("systems")
    serializer_class = DeadlineFeedSerializer
    permission_classes = [CanManageFeeds]
    filterset_fields = {"team__slug": ["exact"], "enabled": ["exact"]}

    def get_serializer_context(self):
        context = super().get_serializer_context()
        # The full URL carries the LMS's secret: shown for the teams the caller
        # may publish for, as the feed pages list them, never for mere members.
        teams = publishing_teams(user=self.request.user)
        context["publishing_team_ids"] = set(teams.values_list("pk", flat=True))
        return context

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        extra = {"interval": data["interval"]} if "interval" in data else {}
        serializer.instance = deadline_feed_create(
            team=data["team"],
            url=data["url"],
            feed_format=data.get("format", FeedFormat.ICS),
            cohort=data.get("cohort", ""),
            cohort_size=data["cohort_size"],
            systems=[system.slug for system in data.get("systems", [])],
            enabled=data.get("enabled", True),
            by=self.request.user,
            **extra,
        )

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        if "systems" in data:
            data["systems"] = [system.slug for system in data["systems"]]
        serializer.instance = deadline_feed_update(
            feed=serializer.instance, by=self.request.user, **data
        )

    def perform_destroy(self, instance):
        deadline_feed_delete(feed=instance, by=self.request.user)

    @extend_schema(request=None, responses={202: DeadlineFeedSerializer})
    @action(detail=True, methods=["post"])
    def sync(self, request, pk=None):
        """Sync the feed now (as a background task); the answer shows its sync state."""
        feed = self.get_object()  # members of its team only (CanManageFeeds)
        check_can_publish(by=request.user, team=feed.team)
        enqueue("deadlines.tasks.sync_feed", feed.pk)
        feed.refresh_from_db()
        return Response(self.get_serializer(feed).data, status=status.HTTP_202_ACCEPTED)

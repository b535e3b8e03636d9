"""The /api/v1/ router. It lives in config so that `scheduling` never imports the
apps that build on it."""

from django.urls import include, re_path
from rest_framework.routers import DefaultRouter

from blackouts.api import BlackoutViewSet
from deadlines.api import DeadlineViewSet
from deadlines.feeds.api import DeadlineFeedViewSet
from scheduling.api.ci import ChecksView, GateView, PingView, SlotsView, StateView
from scheduling.api.freezes import FreezePeriodViewSet
from scheduling.api.standard import StandardChangeViewSet
from scheduling.api.tokens import ApiTokenViewSet
from scheduling.api.views import FreezeView, JobViewSet, SystemViewSet, TeamViewSet
from scheduling.api.webhook_secret import TeamWebhookSecretView
from scheduling.calendar_feeds.api import FeedTokenViewSet


class Router(DefaultRouter):
    # The CI contract: paths answer with or without a trailing slash.
    def __init__(self):
        super().__init__()
        self.trailing_slash = "/?"


router = Router()
router.register("teams", TeamViewSet)
router.register("systems", SystemViewSet)
router.register("jobs", JobViewSet, basename="job")
router.register("blackouts", BlackoutViewSet)
router.register("deadlines", DeadlineViewSet)
router.register("deadline-feeds", DeadlineFeedViewSet)
router.register("api-tokens", ApiTokenViewSet, basename="api-token")
router.register("feed-tokens", FeedTokenViewSet, basename="feed-token")
router.register("freezes", FreezePeriodViewSet)
router.register("standard-changes", StandardChangeViewSet)

# Namespaced so that the API root and `reverse` never resolve to a page of the UI
# that shares a name (`job-list`, `freeze`, ...).
app_name = "api"

urlpatterns = [
    re_path(r"^freeze/?$", FreezeView.as_view(), name="freeze"),
    re_path(r"^jobs/(?P<pk>[0-9]+)/gate/?$", GateView.as_view(), name="gate"),
    re_path(r"^state/?$", StateView.as_view(), name="state"),
    re_path(r"^checks/?$", ChecksView.as_view(), name="checks"),
    re_path(r"^slots/?$", SlotsView.as_view(), name="slots"),
    re_path(r"^ping/?$", PingView.as_view(), name="ping"),
    re_path(
        r"^teams/(?P<slug>[^/.]+)/webhook-secret/?$",
        TeamWebhookSecretView.as_view(),
        name="team-webhook-secret",
    ),
    re_path(r"^", include("operations.api.urls")),
    *router.urls,
]

"""The /api/v1/ router. It lives in config so that `scheduling` never imports the
apps that build on it."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from blackouts.api import BlackoutViewSet
from deadlines.api import DeadlineViewSet
from scheduling.api.views import FreezeView, JobViewSet, SystemViewSet, TeamViewSet


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

urlpatterns = [
    path("freeze", FreezeView.as_view(), name="freeze"),
    path("freeze/", FreezeView.as_view()),
    *router.urls,
]

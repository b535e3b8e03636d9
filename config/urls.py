from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path, re_path, resolve
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from config import sign_in
from config.errors import api_not_found
from config.login import LoginView
from operations.metrics import metrics
from scheduling.health import healthz, readyz


def api_root(request, *args, **kwargs):
    """`/api/v1` answers as `/api/v1/` does: the CI contract takes paths with or without
    the slash, and the root's links are reversed in the `api` namespace it resolves to."""
    match = resolve("/api/v1/")
    request.resolver_match = match
    return match.func(request, *match.args, **match.kwargs)


def favicon(request):
    """Pages link the icon; clients that ask the root for it (feed readers, old
    browsers, the API docs) are sent to the same file instead of a 404."""
    return HttpResponsePermanentRedirect(static("clearway/favicon.ico"))


urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("favicon.ico", favicon),
    # Before the admin's own: the old password counts against the sign-in limit.
    path("admin/password_change/", sign_in.admin_password_change),
    path("metrics", metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("accounts/login/", LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/v1/", include("config.api")),
    path("api/v1", api_root),
    path("calendar/", include("scheduling.calendar_feeds.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file, not inline,
    # so the Content Security Policy needs no 'unsafe-inline' for scripts.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    # Any other /api/ path (but the two above without their slash, which
    # APPEND_SLASH redirects): JSON, under DEBUG too.
    re_path(r"^api/(?!(schema|docs)$)", api_not_found),
    # The web UI: server-rendered pages (calendar, jobs, reviews, ...).
    path("blackouts/", include("blackouts.urls")),
    path("deadlines/", include("deadlines.urls")),
    path("integrations/", include("integrations.urls")),
    path("", include("operations.urls")),
    path("", include("scheduling.urls")),
]

# An unmatched /api/ path is a JSON 404 like every other API error.
handler400 = "config.errors.bad_input"
handler404 = "config.errors.not_found"

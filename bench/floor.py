"""The bare floor for `make bench`: a DRF view answering a constant, with no
authentication, no throttle and no database, mounted beside the real URLs.

Served only by the benchmark (DJANGO_SETTINGS_MODULE=bench.floor), never by a
deployment: it measures what gunicorn, Django's middleware and DRF cost
before Clearway does anything.
"""

from django.urls import include, path
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from config.settings import *  # noqa: F403 - the production settings, one line changed

ROOT_URLCONF = "bench.floor"


class BareView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []

    def get(self, request):
        return Response({"ok": True})


urlpatterns = [path("bench/bare", BareView.as_view()), path("", include("config.urls"))]

"""A DRF view answering a constant, with no authentication, no throttle and no
database, mounted beside the real URLs: what gunicorn, Django's middleware and
DRF cost before Clearway does anything (the bare floor of `make bench`)."""

from django.urls import include, path
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView


class BareView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []

    def get(self, request):
        return Response({"ok": True})


urlpatterns = [path("bench/bare", BareView.as_view()), path("", include("config.urls"))]

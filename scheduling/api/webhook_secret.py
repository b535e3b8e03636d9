"""POST /api/v1/teams/{slug}/webhook-secret: a new signing secret, shown in this answer only."""

from django.shortcuts import get_object_or_404
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from scheduling.models import Team
from scheduling.services.webhooks import team_webhook_secret_rotate


@method_decorator(never_cache, name="dispatch")  # the answer carries the new secret
class TeamWebhookSecretView(APIView):
    # No token_scopes: CI tokens cannot mint secrets, only signed-in people.

    @extend_schema(
        request=None,
        parameters=[OpenApiParameter("slug", str, OpenApiParameter.PATH)],
        responses={
            201: inline_serializer(
                "WebhookSecret",
                {
                    "team": serializers.CharField(),
                    "secret": serializers.CharField(),
                    "created": serializers.DateTimeField(),
                },
            )
        },
    )
    def post(self, request, slug: str):
        team = get_object_or_404(Team, slug=slug)
        secret = team_webhook_secret_rotate(team=team, by=request.user)
        return Response(
            {"team": team.slug, "secret": secret, "created": team.webhook_secret_created},
            status=status.HTTP_201_CREATED,
        )

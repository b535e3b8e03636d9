"""/api/v1/feed-tokens: a person's calendar addresses (list, create once, rename, revoke)."""

from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from scheduling.calendar_feeds.tokens import (
    feed_token_create,
    feed_token_rename,
    feed_token_revoke,
    feed_tokens_of,
    feed_urls,
)
from scheduling.models import FeedToken


class FeedTokenSerializer(serializers.ModelSerializer):
    name = serializers.CharField(max_length=100)

    class Meta:
        model = FeedToken
        fields = ["id", "name", "created", "last_used"]
        read_only_fields = ["created", "last_used"]


class CreatedFeedTokenSerializer(FeedTokenSerializer):
    token = serializers.CharField(help_text="The secret, shown only in this answer.")
    urls = serializers.DictField(
        child=serializers.URLField(), help_text="One address per feed: all, maintenance, ..."
    )

    class Meta(FeedTokenSerializer.Meta):
        fields = [*FeedTokenSerializer.Meta.fields, "token", "urls"]


# Its answers show secrets (a new token, a feed URL with its token): never cached.
@method_decorator(never_cache, name="dispatch")
class FeedTokenViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Your own feed tokens. Signed-in people only: CI tokens cannot use this."""

    serializer_class = FeedTokenSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    # At most 19 digits (a 64-bit id): int() refuses more than 4,300 (a 500).
    lookup_value_regex = "[0-9]{1,19}"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return FeedToken.objects.none()
        return feed_tokens_of(user=self.request.user)

    @extend_schema(responses={201: CreatedFeedTokenSerializer})
    def create(self, request, *args, **kwargs):
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        token, secret = feed_token_create(user=request.user, name=body.validated_data["name"])
        data = FeedTokenSerializer(token).data
        data.update(token=secret, urls=feed_urls(secret=secret))
        return Response(data, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer):
        serializer.instance = feed_token_rename(
            token_id=serializer.instance.pk,
            user=self.request.user,
            name=serializer.validated_data.get("name", serializer.instance.name),
        )

    def destroy(self, request, *args, **kwargs):
        feed_token_revoke(token_id=int(kwargs["pk"]), user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

"""API tokens for CI: list, create (shown once), revoke."""

from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from scheduling.choices import TokenScope
from scheduling.errors import NotFound
from scheduling.models import ApiToken, Team
from scheduling.selectors import api_tokens_of
from scheduling.services.tokens import api_token_create, api_token_revoke


class ApiTokenSerializer(serializers.ModelSerializer):
    team = serializers.SlugRelatedField(slug_field="slug", queryset=Team.objects.all())
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=TokenScope.choices), allow_empty=False
    )

    class Meta:
        model = ApiToken
        fields = ["id", "name", "team", "scopes", "expires", "last_used", "created"]
        read_only_fields = ["last_used", "created"]


class CreatedApiTokenSerializer(ApiTokenSerializer):
    """The answer to a creation, the only one with the secret.

    A separate serializer so that the list's schema does not promise a
    `token` it never sends (schemathesis found the list violating it).
    """

    token = serializers.CharField(
        read_only=True, help_text="The secret, shown only in the answer to its creation."
    )

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "token"]


# Its answers show secrets (a new token, a feed URL with its token): never cached.
@method_decorator(never_cache, name="dispatch")
class ApiTokenViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Team tokens for CI. Signed-in people manage them; tokens cannot."""

    serializer_class = ApiTokenSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ApiToken.objects.none()
        return api_tokens_of(user=self.request.user)

    @extend_schema(responses={201: CreatedApiTokenSerializer})
    def create(self, request, *args, **kwargs):
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        token, secret = api_token_create(by=request.user, **body.validated_data)
        data = ApiTokenSerializer(token).data
        data["token"] = secret
        return Response(data, status=status.HTTP_201_CREATED)

    def destroy(self, request, *args, **kwargs):
        # The router matches any path segment here: a non-number is no token,
        # not a 500 from int().
        # At most 19 digits (a 64-bit id): int() refuses more than 4,300 (a 500).
        if not kwargs["pk"].isdecimal() or len(kwargs["pk"]) > 19:
            raise NotFound(f"There is no token {kwargs['pk']!r}.")
        api_token_revoke(token_id=int(kwargs["pk"]), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

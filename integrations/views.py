"""POST /integrations/github/webhook: the GitHub App's webhooks."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from integrations.errors import PayloadTooLarge
from integrations.github.signature import verified_payload
from integrations.services import github_webhook_receive
from scheduling.errors import NotFound


class GitHubWebhookView(APIView):
    """GitHub signs each delivery with the app's webhook secret; nothing else authenticates it."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []

    # Not part of the /api/v1 contract: GitHub is its only client.
    schema = None

    def initial(self, request, *args, **kwargs):
        # Not configured: the endpoint does not exist, whatever the method
        # (DRF answers 405 only after `initial`).
        if not settings.CLEARWAY_GITHUB_WEBHOOK_SECRET:
            raise NotFound("Not found.")
        super().initial(request, *args, **kwargs)

    def post(self, request):
        try:
            body = request.body
        except RequestDataTooBig:
            raise PayloadTooLarge(
                "The body is larger than DATA_UPLOAD_MAX_MEMORY_SIZE allows."
            ) from None
        payload = verified_payload(
            body=body,
            header=request.headers.get("X-Hub-Signature-256", ""),
            secret=settings.CLEARWAY_GITHUB_WEBHOOK_SECRET,
        )
        answer = github_webhook_receive(
            delivery_id=request.headers.get("X-GitHub-Delivery", ""),
            event=request.headers.get("X-GitHub-Event", ""),
            payload=payload,
        )
        return Response(answer)

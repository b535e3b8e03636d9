from django.urls import re_path

from integrations.views import GitHubWebhookView

app_name = "integrations"

urlpatterns = [
    re_path(r"^github/webhook/?$", GitHubWebhookView.as_view(), name="github-webhook"),
]

from django.contrib import admin

from integrations.models import DeploymentReview, GitHubDelivery, GitHubEnvironmentMapping
from integrations.selectors import review_answers


@admin.register(GitHubEnvironmentMapping)
class GitHubEnvironmentMappingAdmin(admin.ModelAdmin):
    """(repository, environment) → systems: how a deployment without clearway_job finds its job."""

    list_display = ["repository", "environment"]
    search_fields = ["repository", "environment", "systems__slug"]
    filter_horizontal = ["systems"]


@admin.register(DeploymentReview)
class DeploymentReviewAdmin(admin.ModelAdmin):
    """What GitHub asked and what Clearway answered. The answer's sending (retries,
    failures) is the Delivery on channel github:<id>, under Scheduling → Deliveries."""

    list_display = [
        "created_at",
        "repository",
        "environment",
        "job",
        "state",
        "next_check_at",
        "sent_to_github",
    ]
    list_filter = ["state", "environment"]
    search_fields = ["repository", "environment", "delivery__delivery_id"]
    readonly_fields = [*(f.name for f in DeploymentReview._meta.fields), "sent_to_github"]

    @admin.display(description="answer sent to GitHub")
    def sent_to_github(self, review: DeploymentReview) -> str:
        answers = review_answers(review=review)
        if not answers:
            return "—"
        latest = answers[0]
        text = f"{latest.event}: {latest.status} after {latest.attempts} attempt(s)"
        return f"{text}; {latest.last_error[:120]}" if latest.last_error else text

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(GitHubDelivery)
class GitHubDeliveryAdmin(admin.ModelAdmin):
    list_display = ["received_at", "event", "action", "delivery_id", "installation_id"]
    list_filter = ["event"]
    search_fields = ["delivery_id"]
    readonly_fields = [f.name for f in GitHubDelivery._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

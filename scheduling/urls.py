"""Pages of the scheduling app (included at the site root from config.urls)."""

from django.urls import path

from scheduling.views import (
    admin_pages,
    api_tokens,
    calendar,
    job_page,
    jobs,
    reviews,
    standard,
    team_webhook,
    tokens,
)

app_name = "scheduling"

urlpatterns = [
    path("", calendar.calendar, name="calendar"),
    path("zone/", calendar.choose_zone, name="choose-zone"),
    path("jobs/", jobs.job_list, name="job-list"),
    path("jobs/new/", jobs.book, name="job-book"),
    path("jobs/preview/", jobs.preview, name="job-preview"),
    path("jobs/<int:pk>/", job_page.detail, name="job-detail"),
    path("jobs/<int:pk>/edit/", jobs.edit, name="job-edit"),
    path("jobs/<int:pk>/submit/", job_page.submit, name="job-submit"),
    path("jobs/<int:pk>/review/", job_page.review, name="job-review"),
    path("jobs/<int:pk>/cancel/", job_page.cancel, name="job-cancel"),
    path("jobs/<int:pk>/done/", job_page.done, name="job-done"),
    path("reviews/", reviews.inbox, name="review-inbox"),
    path("standard-changes/", standard.standard_changes, name="standard-changes"),
    path(
        "standard-changes/<int:pk>/book/",
        standard.standard_change_book,
        name="standard-change-book",
    ),
    path("freeze/", admin_pages.freeze, name="freeze"),
    path("freeze/<int:pk>/call-off/", admin_pages.freeze_call_off, name="freeze-call-off"),
    path("systems/", admin_pages.systems, name="system-list"),
    path("systems/<slug:slug>/", admin_pages.system_detail, name="system-detail"),
    path("feed-tokens/", tokens.tokens, name="feed-tokens"),
    path("feed-tokens/<int:pk>/revoke/", tokens.revoke, name="feed-token-revoke"),
    path("teams/<slug:slug>/webhook/", team_webhook.team_webhook, name="team-webhook"),
    path("api-tokens/", api_tokens.api_tokens, name="api-tokens"),
    path("api-tokens/<int:pk>/revoke/", api_tokens.revoke, name="api-token-revoke"),
]

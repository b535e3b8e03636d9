from django.contrib import admin, messages

from deadlines.feeds.services import (
    deadline_feed_create,
    deadline_feed_delete,
    deadline_feed_update,
)
from deadlines.feeds.sync import feed_sync
from deadlines.models import Cohort, Deadline, DeadlineFeed
from deadlines.services import deadline_withdraw
from scheduling.errors import DomainError


@admin.register(Cohort)
class CohortAdmin(admin.ModelAdmin):
    list_display = ["name", "size", "team"]
    list_filter = ["team"]
    search_fields = ["name"]


@admin.register(Deadline)
class DeadlineAdmin(admin.ModelAdmin):
    """Read-only: deadlines are published and changed on /deadlines/ or the API,
    whose services check the times and text and re-evaluate the jobs a
    deadline flags; saving the model here did none of that. Nor is one deleted
    here: the `withdraw` action goes through the service, which announces the
    change and re-evaluates the jobs the deadline flagged."""

    actions = ["withdraw"]

    list_display = [
        "title",
        "course",
        "cohort",
        "cohort_size",
        "due",
        "team",
        "source",
        "withdrawn_at",
    ]
    list_filter = [
        "source",
        "team",
        "feed",
        "systems",
        ("withdrawn_at", admin.EmptyFieldListFilter),
    ]
    search_fields = ["title", "course", "cohort__name", "external_uid"]
    date_hierarchy = "due"
    filter_horizontal = ["systems"]
    readonly_fields = [
        "title",
        "course",
        "cohort",
        "cohort_size",
        "due",
        "team",
        "systems",
        "source",
        "external_uid",
        "withdrawn_at",
        "feed",
        "created_by",
        "created_at",
        "updated_at",
        "version",
    ]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Withdraw selected deadlines")
    def withdraw(self, request, queryset):
        for deadline in queryset:
            try:
                deadline_withdraw(deadline=deadline, by=request.user)
            except DomainError as error:
                self.message_user(request, f"{deadline}: {error.message}", messages.ERROR)


@admin.register(DeadlineFeed)
class DeadlineFeedAdmin(admin.ModelAdmin):
    """Feeds with their sync state; saving goes through the feed services."""

    list_display = [
        "pk",
        "url",
        "format",
        "team",
        "enabled",
        "deadline_count",
        "last_success_at",
        "failure_count",
        "next_sync_at",
    ]
    list_filter = ["format", "enabled", "team"]
    search_fields = ["url", "cohort"]
    filter_horizontal = ["systems"]
    fieldsets = [
        (None, {"fields": ["url", "format", "team", "cohort", "cohort_size", "systems"]}),
        ("Schedule", {"fields": ["interval", "enabled", "next_sync_at"]}),
        (
            "Sync state",
            {
                "fields": [
                    "last_attempt_at",
                    "last_success_at",
                    "last_error",
                    "last_warnings",
                    "deadline_count",
                    "failing_since",
                    "failure_count",
                    "failure_notified",
                    "etag",
                    "last_modified",
                ]
            },
        ),
    ]
    readonly_fields = [
        "next_sync_at",
        "last_attempt_at",
        "last_success_at",
        "last_error",
        "last_warnings",
        "deadline_count",
        "failing_since",
        "failure_count",
        "failure_notified",
        "etag",
        "last_modified",
    ]
    actions = ["sync_now"]

    def save_model(self, request, obj, form, change):
        data = {key: form.cleaned_data[key] for key in form.changed_data if key != "systems"}
        if change:
            feed = deadline_feed_update(feed=DeadlineFeed.objects.get(pk=obj.pk), **data)
        else:
            feed = deadline_feed_create(
                team=obj.team,
                url=obj.url,
                feed_format=obj.format,
                cohort=obj.cohort,
                cohort_size=obj.cohort_size,
                interval=obj.interval,
                enabled=obj.enabled,
                by=request.user,
            )
        obj.pk, obj.next_sync_at = feed.pk, feed.next_sync_at

    def save_related(self, request, form, formsets, change):
        systems = [system.slug for system in form.cleaned_data.get("systems", [])]
        deadline_feed_update(feed=DeadlineFeed.objects.get(pk=form.instance.pk), systems=systems)

    def delete_model(self, request, obj):
        deadline_feed_delete(feed=obj)

    def delete_queryset(self, request, queryset):
        for feed in queryset:
            deadline_feed_delete(feed=feed)

    @admin.action(description="Sync the selected feeds now")
    def sync_now(self, request, queryset):
        for feed in queryset:
            result = feed_sync(feed_id=feed.pk)
            level = messages.SUCCESS if result.ok else messages.ERROR
            text = "not modified" if result.not_modified else result.error or result.changes
            self.message_user(request, f"Feed {feed.pk}: {text}", level)

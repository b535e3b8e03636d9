from django.contrib import admin

from scheduling.models import (
    AllowedWindowOccurrence,
    Freeze,
    JobOccurrence,
    MaintenanceJob,
    System,
    Team,
)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "webhook_url"]
    search_fields = ["name", "slug", "members__username"]
    filter_horizontal = ["members"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(System)
class SystemAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "team", "window_rrule", "window_timezone"]
    list_filter = ["team"]
    search_fields = ["slug", "name"]
    filter_horizontal = ["depends_on"]


class JobOccurrenceInline(admin.TabularInline):
    model = JobOccurrence
    extra = 0
    can_delete = False
    readonly_fields = ["start", "end"]


@admin.register(MaintenanceJob)
class MaintenanceJobAdmin(admin.ModelAdmin):
    list_display = ["id", "title", "team", "start", "end", "impact", "status", "decision"]
    list_filter = ["status", "decision", "impact", "team", "emergency", "systems"]
    search_fields = ["title", "description", "team__name", "systems__slug"]
    date_hierarchy = "start"
    readonly_fields = [
        "decision",
        "findings",
        "evaluated_at",
        "impacted_systems",
        "created_by",
        "created_at",
        "updated_at",
        "version",
    ]
    filter_horizontal = ["systems"]
    inlines = [JobOccurrenceInline]


@admin.register(AllowedWindowOccurrence)
class AllowedWindowOccurrenceAdmin(admin.ModelAdmin):
    list_display = ["system", "start", "end"]
    list_filter = ["system"]
    date_hierarchy = "start"


@admin.register(Freeze)
class FreezeAdmin(admin.ModelAdmin):
    list_display = ["active", "reason", "since", "by"]
    readonly_fields = ["since", "by"]

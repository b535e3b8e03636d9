"""Read-only views of runs, monitors and observations for administrators.

Monitoring DSNs are set through the API (tested, then encrypted); the admin
never shows or edits them.
"""

from django.contrib import admin

from operations.models import DatabaseMonitor, Observation, Run


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Run)
class RunAdmin(ReadOnly):
    list_display = [
        "pk",
        "job",
        "status",
        "started_at",
        "finished_at",
        "overrun_at",
        "stop_requested_at",
    ]
    list_filter = ["status"]
    search_fields = ["job__title"]


@admin.register(DatabaseMonitor)
class DatabaseMonitorAdmin(ReadOnly):
    list_display = [
        "system",
        "database",
        "enabled",
        "last_success_at",
        "failing_since",
        "connections",
    ]
    exclude = ["dsn_encrypted"]


@admin.register(Observation)
class ObservationAdmin(ReadOnly):
    list_display = [
        "pk",
        "system",
        "kind",
        "table",
        "mode",
        "pid",
        "unbooked",
        "job",
        "last_seen_at",
    ]
    list_filter = ["kind", "unbooked"]

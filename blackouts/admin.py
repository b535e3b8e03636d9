from django.contrib import admin

from blackouts.models import Blackout, BlackoutOccurrence


class BlackoutOccurrenceInline(admin.TabularInline):
    model = BlackoutOccurrence
    extra = 0
    can_delete = False
    readonly_fields = ["start", "end"]
    max_num = 0


@admin.register(Blackout)
class BlackoutAdmin(admin.ModelAdmin):
    list_display = ["title", "team", "severity", "start", "end", "timezone", "rrule"]
    list_filter = ["severity", "team", "systems"]
    search_fields = ["title", "reason"]
    date_hierarchy = "start"
    filter_horizontal = ["systems"]
    readonly_fields = ["created_by", "created_at", "updated_at", "version"]
    inlines = [BlackoutOccurrenceInline]

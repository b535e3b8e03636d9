from django import forms
from django.contrib import admin
from django.utils import timezone

from blackouts.models import Blackout, BlackoutOccurrence
from blackouts.services import (
    blackout_delete,
    blackout_footprint,
    blackout_refresh,
    check_blackout,
)
from scheduling.errors import InvalidInput


class BlackoutOccurrenceInline(admin.TabularInline):
    model = BlackoutOccurrence
    extra = 0
    can_delete = False
    readonly_fields = ["start", "end"]
    max_num = 0


class BlackoutAdminForm(forms.ModelForm):
    class Meta:
        model = Blackout
        fields = [
            "title",
            "reason",
            "team",
            "systems",
            "start",
            "end",
            "timezone",
            "rrule",
            "exdates",
            "severity",
        ]

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            check_blackout(
                title=data["title"],
                systems=[system.slug for system in data.get("systems", [])],
                start=data["start"],
                end=data["end"],
                timezone=data["timezone"],
                rrule=data.get("rrule", ""),
                exdates=data.get("exdates") or [],
                severity=data["severity"],
                now=timezone.now(),
            )
        except InvalidInput as exc:
            for field, messages in exc.fields.items():
                self.add_error(field if field in self.fields else None, messages)
        return data


@admin.register(Blackout)
class BlackoutAdmin(admin.ModelAdmin):
    """Saves go through the blackout services, so occurrences and jobs follow."""

    form = BlackoutAdminForm
    list_display = ["title", "team", "severity", "start", "end", "timezone", "rrule"]
    list_filter = ["severity", "team", "systems"]
    search_fields = ["title", "reason"]
    date_hierarchy = "start"
    filter_horizontal = ["systems"]
    readonly_fields = ["created_by", "created_at", "updated_at", "version"]
    inlines = [BlackoutOccurrenceInline]

    def save_model(self, request, obj, form, change):
        if change:
            obj._previous = blackout_footprint(blackout=Blackout.objects.get(pk=obj.pk))
        elif obj.created_by_id is None:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        try:
            blackout_refresh(
                blackout=form.instance, previous=getattr(form.instance, "_previous", None)
            )
        except InvalidInput as exc:
            # Shown on the changelist; the invalid rule stays visible for correction.
            self.message_user(request, f"{exc.message} {exc.fields}", level="error")

    def delete_model(self, request, obj):
        blackout_delete(blackout=obj)

    def delete_queryset(self, request, queryset):
        for blackout in queryset:
            blackout_delete(blackout=blackout)

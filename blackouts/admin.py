from django import forms
from django.contrib import admin
from django.utils import timezone

from blackouts.models import Blackout, BlackoutOccurrence
from blackouts.services import (
    blackout_create,
    blackout_delete,
    blackout_update,
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
    """Saves go through the blackout services, as the API's do: the same
    normalising, occurrences, calendar change and re-evaluation of jobs."""

    form = BlackoutAdminForm
    list_display = ["title", "team", "severity", "start", "end", "timezone", "rrule"]
    list_filter = ["severity", "team", "systems"]
    search_fields = ["title", "reason"]
    date_hierarchy = "start"
    filter_horizontal = ["systems"]
    readonly_fields = ["created_by", "created_at", "updated_at", "version"]
    inlines = [BlackoutOccurrenceInline]

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        fields = {
            "title": data["title"],
            "reason": data.get("reason", ""),
            "team": data["team"],
            "systems": [system.slug for system in data.get("systems", [])],
            "start": data["start"],
            "end": data["end"],
            "timezone": data["timezone"],
            "rrule": data.get("rrule", ""),
            "exdates": data.get("exdates") or [],
            "severity": data["severity"],
        }
        if change:
            # `obj` already holds the new values: the service needs the stored
            # blackout to re-evaluate the jobs under its old windows too.
            saved = blackout_update(blackout=Blackout.objects.get(pk=obj.pk), **fields)
        else:
            saved = blackout_create(by=request.user, **fields)
        obj.pk = saved.pk
        obj.refresh_from_db()

    def save_related(self, request, form, formsets, change):
        # The service saved the systems and rewrote the occurrences. The inline
        # is read-only: commit=False writes nothing, but fills in what the
        # admin's change message reads.
        for formset in formsets:
            formset.save(commit=False)

    def delete_model(self, request, obj):
        blackout_delete(blackout=obj)

    def delete_queryset(self, request, queryset):
        for blackout in queryset:
            blackout_delete(blackout=blackout)

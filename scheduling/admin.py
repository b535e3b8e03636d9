from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils import timezone

from scheduling.choices import DeliveryStatus
from scheduling.errors import InvalidInput
from scheduling.models import (
    AllowedWindowOccurrence,
    ApiToken,
    CalendarChange,
    Delivery,
    Freeze,
    JobEvent,
    JobOccurrence,
    MaintenanceJob,
    ReviewRequest,
    System,
    Team,
)
from scheduling.services.catalogue import (
    check_email_addresses,
    check_system,
    check_webhook_url,
    system_delete,
    system_save,
    system_uses,
    team_create,
    team_update,
)
from scheduling.services.deletion import maintenance_job_delete
from scheduling.services.webhooks import team_webhook_secret_rotate
from scheduling.text import check_one_line


class TeamAdminForm(forms.ModelForm):
    class Meta:
        model = Team
        fields = "__all__"  # noqa: DJ007 - the admin shows every column

    def clean_webhook_url(self):
        url = self.cleaned_data.get("webhook_url") or ""
        try:
            check_webhook_url(url=url)
        except InvalidInput as error:
            raise forms.ValidationError(error.message) from None
        return url

    def clean_email_addresses(self):
        addresses = self.cleaned_data.get("email_addresses") or []
        try:
            return check_email_addresses(addresses=addresses)
        except InvalidInput as error:
            raise forms.ValidationError(error.fields["email_addresses"]) from None

    def clean_name(self):
        # The same check as the team services, so a name with a line break
        # cannot reach email subjects through the admin either.
        name = self.cleaned_data.get("name") or ""
        try:
            check_one_line(name=name)
        except InvalidInput as error:
            raise forms.ValidationError(error.fields["name"]) from None
        return name


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    """Saves go through the catalogue services, as the API's do. A team created
    here gets a webhook signing secret too; rotate it to see one (shown once)."""

    form = TeamAdminForm
    list_display = ["name", "slug", "webhook_url", "webhook_format", "webhook_secret_created"]
    search_fields = ["name", "slug", "members__username"]
    filter_horizontal = ["members"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["webhook_secret_created"]
    actions = ["rotate_webhook_secret"]

    @admin.action(description="Create a new webhook signing secret (shown once)")
    def rotate_webhook_secret(self, request, queryset):
        # Shown on a page of its own, never in a message: messages may travel
        # in a cookie.
        secrets = [
            (team, team_webhook_secret_rotate(team=team, by=request.user))
            for team in queryset.order_by("slug")
        ]
        return TemplateResponse(
            request,
            "admin/scheduling/team/webhook_secrets.html",
            {**self.admin_site.each_context(request), "secrets": secrets, "title": "New secrets"},
        )

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        fields = {
            "slug": data["slug"],
            "name": data["name"],
            "email_addresses": data.get("email_addresses") or [],
            "webhook_url": data.get("webhook_url", ""),
            "webhook_format": data["webhook_format"],
            "members": list(data.get("members", [])),
        }
        if change:
            saved = team_update(team=Team.objects.get(pk=obj.pk), **fields)
        else:
            saved = team_create(**fields)
        obj.pk = saved.pk
        obj.refresh_from_db()

    def save_related(self, request, form, formsets, change):
        pass  # the service saved the members


def _stored(form: forms.ModelForm) -> System | None:
    """The system as stored (the form's instance already holds the new values)."""
    return System.objects.get(pk=form.instance.pk) if form.instance.pk else None


class SystemAdminForm(forms.ModelForm):
    """Checks a system with the service's own rule, so errors show beside the fields."""

    class Meta:
        model = System
        fields = [
            "slug",
            "name",
            "team",
            "depends_on",
            "window_rrule",
            "window_start_time",
            "window_duration",
            "window_timezone",
        ]

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            check_system(**_system_fields(data), system=_stored(self))
        except InvalidInput as exc:
            for field, messages in exc.fields.items():
                self.add_error(field if field in self.fields else None, messages)
        return data


def _system_fields(data: dict) -> dict:
    return {
        "slug": data["slug"],
        "depends_on": [system.slug for system in data.get("depends_on", [])],
        "window_rrule": data.get("window_rrule", ""),
        "window_start_time": data.get("window_start_time"),
        "window_duration": data.get("window_duration"),
        "window_timezone": data.get("window_timezone", ""),
    }


@admin.register(System)
class SystemAdmin(admin.ModelAdmin):
    """Saves go through system_save, as the API's do: allowed windows, the
    calendar change and the jobs' impacted systems follow."""

    form = SystemAdminForm
    list_display = ["slug", "name", "team", "window_rrule", "window_timezone"]
    list_filter = ["team"]
    search_fields = ["slug", "name"]
    filter_horizontal = ["depends_on"]

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        saved = system_save(
            **_system_fields(data),
            name=data["name"],
            team=data["team"],
            system=_stored(form) if change else None,
        )
        obj.pk = saved.pk
        obj.refresh_from_db()

    def save_related(self, request, form, formsets, change):
        pass  # the service saved the dependencies

    def has_delete_permission(self, request, obj=None):
        # A system something still names is not offered for deletion (system_delete
        # would refuse it): the page says why through the error below instead.
        if obj is not None and system_uses(system=obj):
            return False
        return super().has_delete_permission(request, obj)

    def delete_model(self, request, obj):
        system_delete(system=obj)

    def delete_queryset(self, request, queryset):
        for system in queryset:
            if uses := system_uses(system=system):
                self.message_user(
                    request, f"{system.slug} was kept: {', '.join(uses)}.", messages.ERROR
                )
                continue
            system_delete(system=system)


class JobOccurrenceInline(admin.TabularInline):
    model = JobOccurrence
    extra = 0
    can_delete = False
    readonly_fields = ["start", "end"]


class ReviewRequestInline(admin.TabularInline):
    model = ReviewRequest
    extra = 0
    can_delete = False
    fields = ["round", "team", "reason", "status", "comment", "decided_by", "decided_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class JobEventInline(admin.TabularInline):
    """The audit trail: shown, never edited."""

    model = JobEvent
    extra = 0
    can_delete = False
    fields = ["at", "actor", "token", "action", "from_status", "to_status", "decision", "reason"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(MaintenanceJob)
class MaintenanceJobAdmin(admin.ModelAdmin):
    """Read-only: a job changes through its lifecycle (UI or API), which reviews,
    re-evaluates, audits it and refuses control characters in its title; saving
    the model here did none of that. Administrators may still delete a job."""

    list_display = ["id", "title", "team", "start", "end", "impact", "status", "decision"]
    list_filter = ["status", "decision", "impact", "team", "emergency", "systems"]
    search_fields = ["title", "description", "team__name", "systems__slug"]
    date_hierarchy = "start"
    readonly_fields = [
        "title",
        "description",
        "team",
        "systems",
        "start",
        "end",
        "timezone",
        "rrule",
        "impact",
        "emergency",
        "justification",
        "status",
        "decision",
        "findings",
        "evaluated_at",
        "impacted_systems",
        "created_by",
        "created_at",
        "updated_at",
        "version",
        "review_round",
    ]
    inlines = [JobOccurrenceInline, ReviewRequestInline, JobEventInline]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        # Administrators delete spam bookings; the service re-evaluates what they touched.
        return request.user.is_staff and super().has_delete_permission(request, obj)

    def delete_model(self, request, obj):
        maintenance_job_delete(job_id=obj.pk, by=request.user)

    def delete_queryset(self, request, queryset):
        for job_id in queryset.values_list("pk", flat=True):
            maintenance_job_delete(job_id=job_id, by=request.user)


@admin.register(AllowedWindowOccurrence)
class AllowedWindowOccurrenceAdmin(admin.ModelAdmin):
    list_display = ["system", "start", "end"]
    list_filter = ["system"]
    date_hierarchy = "start"


@admin.register(Freeze)
class FreezeAdmin(admin.ModelAdmin):
    """Read-only history: freezes are scheduled and called off on the freeze page or API."""

    list_display = ["start", "end", "rrule", "timezone", "reason", "created_by", "cancelled_at"]
    date_hierarchy = "start"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """Notifications and their fate: failed ones stay here, visible, with their error."""

    list_display = ["created_at", "event", "channel", "status", "attempts", "last_error"]
    list_filter = ["status", "event"]
    search_fields = ["channel", "key", "subject"]
    readonly_fields = [f.name for f in Delivery._meta.fields]
    actions = ["retry"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Send again now")
    def retry(self, request, queryset):
        count = queryset.exclude(status=DeliveryStatus.SENT).update(
            status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=timezone.now()
        )
        self.message_user(request, f"{count} deliveries will be sent by the next retry sweep.")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are created through the API or `manage.py create_token` (shown once)."""

    list_display = ["name", "team", "hint", "scopes", "expires", "last_used", "revoked_at"]
    list_filter = ["team", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "team__slug", "hint"]
    readonly_fields = [f.name for f in ApiToken._meta.fields]
    actions = ["revoke"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Revoke")
    def revoke(self, request, queryset):
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, f"{count} tokens revoked.")


@admin.register(CalendarChange)
class CalendarChangeAdmin(admin.ModelAdmin):
    list_display = ["at", "reason"]
    search_fields = ["reason"]
    readonly_fields = ["at", "reason", "token"]

    def has_add_permission(self, request) -> bool:
        return False

from django.contrib import admin

from deadlines.models import Cohort, Deadline


@admin.register(Cohort)
class CohortAdmin(admin.ModelAdmin):
    list_display = ["name", "size", "team"]
    list_filter = ["team"]
    search_fields = ["name"]


@admin.register(Deadline)
class DeadlineAdmin(admin.ModelAdmin):
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
    list_filter = ["source", "team", "systems", ("withdrawn_at", admin.EmptyFieldListFilter)]
    search_fields = ["title", "course", "cohort__name", "external_uid"]
    date_hierarchy = "due"
    filter_horizontal = ["systems"]
    readonly_fields = ["created_by", "created_at", "updated_at", "version"]

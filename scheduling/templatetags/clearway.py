"""Template helpers: the viewer's navigation and zone, and severity shown as words."""

from django import template
from django.utils import timezone
from django.utils.html import format_html

from scheduling.freezes import freeze_active
from scheduling.views.common import pending_review_count, roles_of, viewer_zone_name
from scheduling.vocabulary import SEVERITY_WORDS, status_word

register = template.Library()

# Severity is told by an icon *and* a word, never by colour alone.
_SEVERITY = {
    "refuse": ("✖", SEVERITY_WORDS["refuse"]),
    "flag": ("⚠", SEVERITY_WORDS["flag"]),
    "clear": ("✔", SEVERITY_WORDS["clear"]),
}


@register.simple_tag(takes_context=True)
def viewer(context) -> dict:
    """Roles, open reviews and the freeze for the header (computed once per page)."""
    request = context["request"]
    user = request.user
    return {
        "roles": roles_of(user),
        "pending_reviews": pending_review_count(user),
        "zone": viewer_zone_name(request),
        # A freeze on every system is news for everyone; one on some shows on the calendar.
        "freeze": freeze_active(at=timezone.now(), systems=[]) if user.is_authenticated else None,
    }


@register.simple_tag(takes_context=True)
def viewer_zone(context) -> str:
    return viewer_zone_name(context["request"])


@register.filter
def severity_badge(value: str):
    icon, word = _SEVERITY.get(value or "", ("•", (value or "none").title()))
    return format_html(
        '<span class="badge badge-{}"><span aria-hidden="true">{}</span> {}</span>',
        value or "none",
        icon,
        word,
    )


@register.filter
def status_badge(job_status: str):
    # One word per status everywhere (scheduling.vocabulary, docs/vocabulary.md).
    label = status_word(job_status)
    return format_html('<span class="status status-{}">{}</span>', job_status, label)


@register.filter
def words(value: str) -> str:
    """`submit_refused` -> `submit refused`: audit actions read as words."""
    return (value or "").replace("_", " ")


@register.filter
def webcal(url: str) -> str:
    """A feed's address as `webcal://`, which calendar apps open as a subscription."""
    scheme, sep, rest = (url or "").partition("://")
    return f"webcal://{rest}" if sep and scheme in ("http", "https") else url

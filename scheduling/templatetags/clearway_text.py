"""Words on pages: rules, durations and message instants in the viewer's zone."""

from django import template
from django.utils import timezone

from scheduling import vocabulary

register = template.Library()


@register.filter
def local_text(text: str) -> str:
    """A message's UTC instants in the zone the page is shown in (base.html sets it)."""
    return vocabulary.localise_text(text, timezone.get_current_timezone())


@register.filter
def duration_text(value) -> str:
    return vocabulary.duration_text(value)


@register.filter
def status_word(value: str) -> str:
    return vocabulary.status_word(value)


@register.filter
def severity_word(value: str) -> str:
    return vocabulary.severity_word(value)


@register.simple_tag
def rule_text(rrule, start, duration, zone_name) -> str:
    return vocabulary.rule_text(rrule, start=start, duration=duration, zone_name=zone_name)


@register.simple_tag
def repeats(obj) -> str:
    """A job's or blackout's rule in words, with its first window's wall-clock hours."""
    zone = vocabulary.ZoneInfo(obj.timezone or "UTC")
    start, end = obj.start.astimezone(zone), obj.end.astimezone(zone)
    wall = end.replace(tzinfo=None) - start.replace(tzinfo=None)
    return vocabulary.rule_text(obj.rrule, start=start, duration=wall, zone_name=obj.timezone)

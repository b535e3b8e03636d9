"""The IANA time zones a person can pick: used by forms and by the viewer's zone in views."""

from functools import cache
from zoneinfo import available_timezones

from django.conf import settings


@cache
def zone_names() -> tuple[str, ...]:
    """IANA zone names worth offering (no legacy `posix/`, `Etc/GMT+5` style aliases)."""
    skip = ("posix", "right", "Etc/", "SystemV", "US/", "Canada/", "Mexico/", "Brazil/", "Chile/")
    names = {n for n in available_timezones() if "/" in n and not n.startswith(skip)}
    return tuple(sorted(names | {"UTC", settings.TIME_ZONE}))


def zone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in zone_names()]


@cache
def _offered() -> frozenset[str]:
    return frozenset(zone_names())


def is_offered(name: str) -> bool:
    """Whether a zone is one the pickers offer: the API, forms and uploads accept only these.

    Legacy aliases (`US/Eastern`, `Etc/GMT+5` whose sign is inverted) name the
    same rules under confusing names; a zone stored through the API that the
    pickers cannot show again would be the one place it appears.
    """
    return name in _offered()

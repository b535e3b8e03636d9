"""Small, strict readers for settings that come from the environment.

Each one fails fast with the variable's name, so a typo in a deployment stops
the process at start-up instead of surfacing as odd behaviour at 3 a.m.
"""

import os
import re
from datetime import timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ImproperlyConfigured
from django.utils.dateparse import parse_duration

_TRUE = {"1", "true", "yes", "on"}
_ISO_DURATION = re.compile(r"^P(?=\d|T\d)(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$")
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of 1/0, true/false, yes/no; got {raw!r}")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer; got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}; got {value}")
    return value


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_duration(name: str, default: timedelta) -> timedelta:
    """An ISO 8601 duration such as PT48H (or Django's "HH:MM:SS")."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    text = raw.strip().upper()
    # Django would read "48" as 48 seconds and "PT" as zero: insist on the
    # ISO form with at least one number, so a typo fails instead of misleading.
    value = parse_duration(text) if _ISO_DURATION.match(text) else None
    if value is None or value < timedelta(0):
        raise ImproperlyConfigured(f"{name} must be an ISO 8601 duration like PT6H; got {raw!r}")
    return value


def env_zone(name: str, default: str) -> str:
    raw = os.environ.get(name, default)
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ImproperlyConfigured(f"{name} must be an IANA time zone; got {raw!r}") from None
    return raw


_RATE = re.compile(r"^\d+/(s|sec|second|m|min|minute|h|hour|d|day)$")


def env_rate(name: str, default: str) -> str:
    """A DRF throttle rate such as 1200/min."""
    raw = os.environ.get(name, default).strip()
    if not _RATE.match(raw):
        raise ImproperlyConfigured(f"{name} must look like 1200/min or 20/s; got {raw!r}")
    return raw

"""API field types shared by every app: zoned instants and ISO 8601 durations."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils.dateparse import parse_duration
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from scheduling import local_times, recurrence
from scheduling.errors import InvalidInput
from scheduling.instants import EARLIEST, LATEST, RANGE_MESSAGE


class InstantField(serializers.DateTimeField):
    """ISO 8601 in, ISO 8601 with an offset out.

    A value without an offset is kept naive here and placed in the object's
    own `timezone` by the serializer (see `localise`), never in the server's.
    """

    # Instants near datetime's limits are typing mistakes, and the arithmetic
    # around them (a deadline's traffic lead and tail, the next-clear search)
    # overflowed into a 500. The bounds are the services' (scheduling.instants).
    earliest = EARLIEST
    latest = LATEST
    default_error_messages = {"range": RANGE_MESSAGE}

    def enforce_timezone(self, value: datetime) -> datetime:
        return value

    def to_representation(self, value):
        # Always answer in UTC, however the instant was entered.
        if isinstance(value, datetime) and value.tzinfo is not None:
            value = value.astimezone(UTC)
        return super().to_representation(value)

    def to_internal_value(self, value) -> datetime:
        moment = super().to_internal_value(value)
        as_utc = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        if not self.earliest <= as_utc < self.latest:
            self.fail("range")
        # The same instant in UTC: Python takes offsets up to +-23:59 and
        # PostgreSQL only up to +-15:59, so 08:00-22:27 was a 500 on saving.
        return moment.astimezone(UTC) if moment.tzinfo else moment


@extend_schema_field(OpenApiTypes.DURATION)
class IsoDurationField(serializers.Field):
    default_error_messages = {"invalid": "Give an ISO 8601 duration such as PT4H."}

    def to_internal_value(self, data):
        try:
            value = parse_duration(str(data)) if data not in (None, "") else None
        except OverflowError:
            # Twenty digits of hours parse, then overflow timedelta: bad input.
            value = None
        if value is None or value <= timedelta(0):
            self.fail("invalid")
        return value

    def to_representation(self, value: timedelta) -> str:
        return iso_duration(value)


def iso_duration(value: timedelta) -> str:
    """The shortest ISO 8601 form people write: PT4H, PT30M, P1DT2H."""
    seconds = int(value.total_seconds())
    days, seconds = divmod(seconds, 86400)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    time_part = "".join(
        f"{amount}{unit}"
        for amount, unit in ((hours, "H"), (minutes, "M"), (seconds, "S"))
        if amount
    )
    text = "P" + (f"{days}D" if days else "") + (f"T{time_part}" if time_part else "")
    return text if text != "P" else "PT0S"


class TimeZoneField(serializers.CharField):
    """An IANA zone from the list the pages offer (scheduling.zones)."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            recurrence.zone(value)  # the domain's own check and message
        except InvalidInput as error:
            raise serializers.ValidationError(error.message, code="invalid") from None
        return value


ZONE_HELP = "An IANA zone. UTC when a new object names none; an update without it keeps the zone."


def zone_default(instance) -> str:
    """The zone of a body that names none: the object's own on an update, UTC on creation.

    Not a field default: DRF fills those in on a PUT before `validate` runs,
    and an update would then have moved the object to UTC.
    """
    return instance.timezone if instance is not None else "UTC"


def localise(data: dict, *fields: str, zone_field: str = "timezone", default: str = "UTC") -> dict:
    """Give naive instants in `data` the zone named in `data[zone_field]`.

    A wall time the zone skips or repeats names no single instant: it is a
    field error in the forms' words (scheduling.local_times), not a guess.
    """
    zone_name = data.get(zone_field) or default
    tz = ZoneInfo(zone_name)
    errors = {}
    for field in fields:
        value = data.get(field)
        if isinstance(value, datetime) and value.tzinfo is None:
            message = local_times.text_problem(value, zone_name)
            if message is not None:
                errors[field] = [message]
                continue
            data[field] = value.replace(tzinfo=tz)
    if errors:
        raise serializers.ValidationError(errors)
    return data

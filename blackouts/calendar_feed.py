"""The blackout feed source (listed in settings.CLEARWAY_FEED_SOURCES).

A recurring blackout is one event with its RRULE and EXDATEs, so a calendar
app expands it in its zone exactly as the materialised occurrences are.
"""

from collections.abc import Iterable
from datetime import datetime

from django.db.models import F, Q, QuerySet

from blackouts.models import Blackout
from scheduling.calendar_feeds.sources import (
    FeedEvent,
    FeedQuery,
    QuerysetFeedSource,
    related_names,
    site_url,
)
from scheduling.choices import Severity

EFFECT = {
    Severity.REFUSE: "changes are refused",
    Severity.FLAG: "changes need extra review",
}


class BlackoutFeedSource(QuerysetFeedSource):
    feed = "blackouts"
    kind = "blackout"
    # The horizon moves daily; the DST exceptions listed depend on it.
    stamp_fields = ("version", "updated_at", "materialised_until")
    text_fields = stamp_fields

    def rows(self, *, query: FeedQuery) -> QuerySet:
        if query.public:
            return Blackout.objects.none()
        return self.filtered(Blackout.objects.all(), query=query)

    def on(self, systems: frozenset[str]) -> Q:
        touching = Blackout.systems.through.objects.filter(system__slug__in=systems)
        return Q(applies_to_all=True) | Q(pk__in=touching.values("blackout_id"))

    def context(self) -> dict:
        return {
            "team_name": F("team__name"),
            "system_names": related_names(Blackout.systems.through, owner="blackout"),
        }

    def load(self, *, ids: list[int]) -> Iterable[Blackout]:
        return (
            Blackout.objects.filter(pk__in=ids).select_related("team").prefetch_related("systems")
        )

    def events_of(self, row: Blackout, *, query: FeedQuery) -> list[FeedEvent]:
        blackout = row
        systems = ", ".join(sorted(s.slug for s in blackout.systems.all())) or "all systems"
        lines = [
            f"Blackout ({blackout.get_severity_display().lower()}): "
            f"{EFFECT.get(blackout.severity, blackout.severity)} on {systems}.",
            f"Team: {blackout.team.name}.",
        ]
        if blackout.reason:
            lines += ["", blackout.reason]
        return [
            FeedEvent(
                uid=f"blackout-{blackout.pk}@clearway",
                sequence=blackout.version,
                modified=blackout.updated_at,
                start=blackout.start,
                end=blackout.end,
                zone=blackout.timezone,
                rrule=blackout.rrule,
                # Stored as UTC ISO strings; render writes them in the rule's zone.
                exdates=tuple(datetime.fromisoformat(value) for value in blackout.exdates),
                # DST exceptions are listed as far as Clearway has materialised.
                expand_until=blackout.materialised_until,
                summary=f"Blackout: {blackout.title} ({systems})",
                description="\n".join(lines),
                url=site_url(f"/blackouts/{blackout.pk}/"),
                category="blackout",
            )
        ]

"""Change freezes in the blackouts feed (listed in settings.CLEARWAY_FEED_SOURCES).

A freeze closes change like a refusing blackout, so calendar users find both
in blackouts.ics. A recurring freeze is one event with its RRULE, expanded by
the calendar app in the freeze's zone, as Clearway expands it.
"""

from collections.abc import Iterable

from django.db.models import Q, QuerySet

from scheduling.calendar_feeds.sources import (
    FeedEvent,
    FeedQuery,
    QuerysetFeedSource,
    related_names,
    site_url,
)
from scheduling.models import Freeze


class FreezeFeedSource(QuerysetFeedSource):
    feed = "blackouts"
    kind = "freeze"
    # A freeze row only changes by being lifted, called off or given a new
    # reason; the newest reason alone would not show an older row's edit.
    stamp_fields = (
        "id",
        "created_at",
        "end",
        "lifted_at",
        "cancelled_at",
        "reason_edited_at",
        "reason",
    )
    modified_fields = ("created_at", "lifted_at", "cancelled_at", "reason_edited_at")
    counted_fields = ()
    text_fields = stamp_fields

    # Freezes belong to no team: a team's feed shows those that stop its work,
    # on every system or on the systems it owns and their dependents.
    team_field = None

    def rows(self, *, query: FeedQuery) -> QuerySet:
        if query.public:
            return Freeze.objects.none()
        return self.filtered(Freeze.objects.filter(cancelled_at__isnull=True), query=query)

    def on(self, systems: frozenset[str]) -> Q:
        # A freeze with no systems is on every system; subqueries, not a join,
        # so that no row is counted twice.
        through = Freeze.systems.through.objects
        touching = through.filter(system__slug__in=systems)
        return ~Q(pk__in=through.values("freeze_id")) | Q(pk__in=touching.values("freeze_id"))

    def context(self) -> dict:
        return {"system_names": related_names(Freeze.systems.through, owner="freeze")}

    def load(self, *, ids: list[int]) -> Iterable[Freeze]:
        return Freeze.objects.filter(pk__in=ids).prefetch_related("systems")

    def events_of(self, row: Freeze, *, query: FeedQuery) -> list[FeedEvent]:
        freeze = row
        systems = ", ".join(sorted(s.slug for s in freeze.systems.all())) or "all systems"
        ends = "" if freeze.end else " It lasts until it is lifted."
        return [
            FeedEvent(
                uid=f"freeze-{freeze.pk}@clearway",
                sequence=1 + (freeze.lifted_at is not None),
                modified=max(
                    t for t in (freeze.created_at, freeze.lifted_at, freeze.reason_edited_at) if t
                ),
                start=freeze.start,
                end=freeze.end,
                zone=freeze.timezone,
                rrule=freeze.rrule,
                summary=f"Change freeze ({systems})",
                description=(
                    f"Change freeze on {systems}: gates are closed and new bookings refused."
                    f"{ends}\n\n{freeze.reason}"
                ),
                url=site_url("/freeze/"),
                category="freeze",
            )
        ]

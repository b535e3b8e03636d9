"""The deadline feed source (listed in settings.CLEARWAY_FEED_SOURCES).

Each deadline is two events: the due instant (CATEGORIES:deadline) and its
high-traffic window [due - lead, due + tail) (CATEGORIES:traffic), the window
the conflict engine refuses or flags heavy maintenance in. A withdrawn
deadline stays CANCELLED for 30 days after it was withdrawn.
"""

from collections.abc import Iterable
from datetime import UTC

from django.conf import settings
from django.db.models import F, Q, QuerySet

from deadlines.models import Cohort, Deadline
from scheduling.calendar_feeds.sources import (
    CANCELLED,
    CONFIRMED,
    FeedEvent,
    FeedQuery,
    QuerysetFeedSource,
    related_names,
    site_url,
)


class DeadlineFeedSource(QuerysetFeedSource):
    feed = "deadlines"
    kind = "deadline"
    zone_field = None  # deadlines are instants, written in UTC

    def revision(self) -> str:
        return f"{settings.CLEARWAY_TRAFFIC_LEAD}/{settings.CLEARWAY_TRAFFIC_TAIL}"

    def names(self) -> object:
        return list(Cohort.objects.order_by("pk").values_list("pk", "name"))

    def context(self) -> dict:
        return {
            "team_name": F("team__name"),
            "cohort_name": F("cohort__name"),
            "system_names": related_names(Deadline.systems.through, owner="deadline"),
        }

    def rows(self, *, query: FeedQuery) -> QuerySet:
        if query.public:
            return Deadline.objects.none()
        deadlines = Deadline.objects.filter(
            Q(withdrawn_at__isnull=True) | Q(withdrawn_at__gte=query.cancelled_since)
        )
        return self.filtered(deadlines, query=query)

    def on(self, systems: frozenset[str]) -> Q:
        hitting = Deadline.systems.through.objects.filter(system__slug__in=systems)
        return Q(pk__in=hitting.values("deadline_id"))

    def load(self, *, ids: list[int]) -> Iterable[Deadline]:
        return (
            Deadline.objects.filter(pk__in=ids)
            .select_related("team", "cohort")
            .prefetch_related("systems")
        )

    def events_of(self, row: Deadline, *, query: FeedQuery) -> list[FeedEvent]:
        deadline = row
        lead, tail = settings.CLEARWAY_TRAFFIC_LEAD, settings.CLEARWAY_TRAFFIC_TAIL
        systems = ", ".join(sorted(s.slug for s in deadline.systems.all()))
        students = f"{deadline.cohort_size:,} students"
        who = " ".join(
            part
            for part in (
                deadline.course and f"Course {deadline.course}.",
                deadline.cohort_id and f"Cohort {deadline.cohort_name}.",
                f"Team: {deadline.team.name}.",
            )
            if part
        )
        due = f"{deadline.due.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
        common = {
            "sequence": deadline.version,
            "modified": deadline.updated_at,
            "zone": "UTC",
            "url": site_url(f"/deadlines/{deadline.pk}/"),
            "status": CANCELLED if deadline.withdrawn_at else CONFIRMED,
        }
        return [
            FeedEvent(
                uid=f"deadline-{deadline.pk}@clearway",
                start=deadline.due,
                end=None,
                summary=f"Deadline: {deadline.title} ({students}; {systems})",
                description=f"Due {due} for {students} on {systems}. {who}",
                category="deadline",
                **common,
            ),
            FeedEvent(
                uid=f"traffic-{deadline.pk}@clearway",
                start=deadline.due - lead,
                end=deadline.due + tail,
                summary=f"High traffic: {deadline.title} ({students}; {systems})",
                description=(
                    f"High traffic on {systems} from {students} around '{deadline.title}', "
                    f"due {due}: heavy maintenance is flagged or refused here. {who}"
                ),
                category="traffic",
                **common,
            ),
        ]

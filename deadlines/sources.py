"""The deadline traffic window source (listed in settings.CLEARWAY_WINDOW_SOURCES)."""

from collections.abc import Iterable
from datetime import UTC

from django.conf import settings

from deadlines.models import Deadline
from scheduling.choices import FindingKind
from scheduling.engine import BusyWindow, WindowQuery


def traffic_windows(*, query: WindowQuery) -> Iterable[BusyWindow]:
    lead, tail = settings.CLEARWAY_TRAFFIC_LEAD, settings.CLEARWAY_TRAFFIC_TAIL
    # A window [due - lead, due + tail) overlaps [start, end) exactly when
    # start - tail < due < end + lead: a range scan on the `due` index.
    deadlines = list(
        Deadline.objects.filter(
            withdrawn_at__isnull=True,
            due__gt=query.start - tail,
            due__lt=query.end + lead,
            systems__slug__in=query.systems,
        )
        .select_related("team", "cohort")
        .distinct()
    )
    systems = _systems_of({d.pk for d in deadlines})
    return [
        BusyWindow(
            kind=FindingKind.DEADLINE,
            start=d.due - lead,
            end=d.due + tail,
            systems=systems[d.pk],
            title=f"{d.title} ({d.cohort_size:,} students)",
            message=(
                f"'{d.title}'"
                + (f" for {d.course}" if d.course else "")
                + (f", cohort {d.cohort.name}" if d.cohort_id else "")
                + f" ({d.cohort_size:,} students) is due {d.due.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
            ),
            source=f"deadline:{d.pk}",
            url=f"/deadlines/{d.pk}/",
            team=d.team.slug,
            load=d.cohort_size,
        )
        for d in deadlines
    ]


def _systems_of(deadline_ids: set[int]) -> dict[int, frozenset[str]]:
    rows = Deadline.systems.through.objects.filter(deadline_id__in=deadline_ids).values_list(
        "deadline_id", "system__slug"
    )
    found: dict[int, set[str]] = {pk: set() for pk in deadline_ids}
    for deadline_id, slug in rows:
        found[deadline_id].add(slug)
    return {key: frozenset(value) for key, value in found.items()}

"""The blackout window source (listed in settings.CLEARWAY_WINDOW_SOURCES)."""

from collections.abc import Iterable

from django.db.models import Q

from blackouts.models import BlackoutOccurrence
from scheduling.choices import FindingKind
from scheduling.engine import BusyWindow, WindowQuery


def blackout_windows(*, query: WindowQuery) -> Iterable[BusyWindow]:
    occurrences = list(
        BlackoutOccurrence.objects.filter(start__lt=query.end, end__gt=query.start)
        .filter(Q(blackout__applies_to_all=True) | Q(blackout__systems__slug__in=query.systems))
        .select_related("blackout", "blackout__team")
        .distinct()
    )
    systems = _systems_of({o.blackout_id for o in occurrences if not o.blackout.applies_to_all})
    return [
        BusyWindow(
            kind=FindingKind.BLACKOUT,
            start=o.start,
            end=o.end,
            systems=systems.get(o.blackout_id, frozenset()),
            title=o.blackout.title,
            message=(
                f"Blackout '{o.blackout.title}' ({o.blackout.team.name})"
                + (f": {o.blackout.reason}" if o.blackout.reason else "")
                + "."
            ),
            source=f"blackout:{o.blackout_id}",
            url=f"/blackouts/{o.blackout_id}/",
            team=o.blackout.team.slug,
            severity=o.blackout.severity,
        )
        for o in occurrences
    ]


def _systems_of(blackout_ids: set[int]) -> dict[int, frozenset[str]]:
    from blackouts.models import Blackout

    rows = Blackout.systems.through.objects.filter(blackout_id__in=blackout_ids).values_list(
        "blackout_id", "system__slug"
    )
    found: dict[int, set[str]] = {}
    for blackout_id, slug in rows:
        found.setdefault(blackout_id, set()).add(slug)
    return {key: frozenset(value) for key, value in found.items()}

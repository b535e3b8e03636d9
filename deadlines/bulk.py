"""Bulk writes of deadlines for a feed sync: a few queries for thousands of rows.

The specs come from `entries.resolve_all`, which already checked each one
(`check_deadline`), so no row is validated twice. Each row still announces
its window through `calendar_changed`; the sync runs inside `calendar_batch`,
so the announcements become one calendar change and one re-evaluation task.
"""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import F

from deadlines.choices import DeadlineSource
from deadlines.entries import Cohorts, Spec
from deadlines.models import Deadline, DeadlineFeed
from deadlines.services import announce
from scheduling.calendar_feeds.stored import feed_texts_store
from scheduling.db import update_rows
from scheduling.models import System, Team
from scheduling.queue import enqueue

_Through = Deadline.systems.through


def _system_ids(specs: Iterable[Spec]) -> dict[str, int]:
    wanted = {slug for spec in specs for slug in spec.systems}
    return dict(System.objects.filter(slug__in=wanted).values_list("slug", "pk"))


@transaction.atomic
def deadlines_create_bulk(
    *,
    team: Team,
    specs: list[Spec],
    keys: list[str],
    cohorts: Cohorts,
    now: datetime,
    source: str,
    feed: DeadlineFeed | None = None,
    upload_source: str = "",
    by: Any = None,
) -> list[Deadline]:
    """Create new deadlines keyed by `keys` (their external UIDs): one INSERT for the
    rows, one for their systems. The caller checked the publishing rule."""
    if not specs:
        return []
    rows = [
        Deadline(
            team=team,
            title=spec.title.strip(),
            course=spec.course,
            cohort=cohorts.ensure(spec.cohort_name),
            cohort_size=spec.cohort_size,
            due=spec.due,
            source=source,
            external_uid=key,
            feed=feed,
            upload_source=upload_source,
            created_by=by,
            created_at=now,
            updated_at=now,
        )
        for spec, key in zip(specs, keys, strict=True)
    ]
    created = Deadline.objects.bulk_create(rows)
    if any(d.pk is None for d in created):  # a backend that returns no ids
        by_uid = dict(
            Deadline.objects.filter(
                team=team,
                source=source,
                feed=feed,
                upload_source=upload_source,
                external_uid__in=keys,
            ).values_list("external_uid", "pk")
        )
        for deadline in created:
            deadline.pk = by_uid[deadline.external_uid]
    ids = _system_ids(specs)
    _texts_later(created)
    _Through.objects.bulk_create(
        _Through(deadline_id=deadline.pk, system_id=ids[slug])
        for deadline, spec in zip(created, specs, strict=True)
        for slug in set(spec.systems)
    )
    for deadline, spec in zip(created, specs, strict=True):
        announce(deadline, systems=spec.systems, verb="published")
    return created


def feed_deadlines_create(
    *, feed: DeadlineFeed, specs: list[Spec], cohorts: Cohorts, now: datetime
) -> list[Deadline]:
    """Create the feed's new deadlines, keyed by their event UIDs."""
    return deadlines_create_bulk(
        team=feed.team,
        specs=specs,
        keys=[spec.uid for spec in specs],
        cohorts=cohorts,
        now=now,
        source=DeadlineSource.FEED,
        feed=feed,
    )


@transaction.atomic
def deadlines_update_bulk(
    *, changes: list[tuple[Deadline, Spec]], team: Team, cohorts: Cohorts, now: datetime
) -> None:
    """Bring changed deadlines to their specs in one UPDATE batch; systems only where moved.

    `deadline.systems` must be prefetched (the sync's one query by UID does).
    """
    if not changes:
        return
    ids = _system_ids(spec for _, spec in changes)
    moved: list[tuple[Deadline, set[str]]] = []
    announcements = []
    for deadline, spec in changes:
        old_due, old_version = deadline.due, deadline.version
        old_systems = {system.slug for system in deadline.systems.all()}
        deadline.title = spec.title.strip()
        deadline.course = spec.course
        deadline.cohort = cohorts.ensure(spec.cohort_name)
        deadline.cohort_size = spec.cohort_size
        deadline.due = spec.due
        deadline.team = team
        deadline.updated_at = now
        if old_systems != set(spec.systems):
            moved.append((deadline, set(spec.systems)))
        announcements.append((deadline, set(spec.systems) | old_systems, old_due, old_version))
    update_rows(
        Deadline,
        [deadline for deadline, _ in changes],
        ["title", "course", "cohort", "cohort_size", "due", "team", "updated_at"],
        bump=["version"],
    )
    if moved:
        _Through.objects.filter(deadline_id__in=[d.pk for d, _ in moved]).delete()
        _Through.objects.bulk_create(
            _Through(deadline_id=deadline.pk, system_id=ids[slug])
            for deadline, slugs in moved
            for slug in slugs
        )
    _texts_later(deadline for deadline, _ in changes)
    for deadline, systems, old_due, old_version in announcements:
        # The row was bumped by the expression; mirror it without re-reading it.
        deadline.version = old_version + 1
        announce(deadline, systems=systems, verb="changed", extra_due=old_due)


def feed_deadlines_update(
    *, changes: list[tuple[Deadline, Spec]], feed: DeadlineFeed, cohorts: Cohorts, now: datetime
) -> None:
    deadlines_update_bulk(changes=changes, team=feed.team, cohorts=cohorts, now=now)


@transaction.atomic
def deadlines_withdraw_bulk(*, deadlines: list[Deadline], now: datetime) -> None:
    """Withdraw deadlines that left the feed: one UPDATE; their systems are prefetched."""
    if not deadlines:
        return
    Deadline.objects.filter(pk__in=[d.pk for d in deadlines]).update(
        withdrawn_at=now, version=F("version") + 1, updated_at=now
    )
    _texts_later(deadlines)
    for deadline in deadlines:
        deadline.withdrawn_at, deadline.updated_at = now, now
        deadline.version += 1
        announce(deadline, systems=[s.slug for s in deadline.systems.all()], verb="withdrawn")


# Rendering 5,000 texts takes seconds: not in the sync's transaction, and not
# in the first calendar app's fetch after it either, but in a task of its own.
TEXT_PAGE = 1000


def _texts_later(deadlines: Iterable[Deadline]) -> None:
    ids = [deadline.pk for deadline in deadlines]
    if ids:
        enqueue("deadlines.tasks.store_feed_texts", ids=ids)


def deadlines_feed_texts_store(*, ids: list[int]) -> int:
    """Store the feed texts of deadlines written in bulk, a page per transaction.

    A row changed again since is rendered as it is now; one deleted since is
    skipped.
    """
    for at in range(0, len(ids), TEXT_PAGE):
        with transaction.atomic():
            feed_texts_store(kind="deadline", ids=ids[at : at + TEXT_PAGE])
    return len(ids)

"""Make a feed's deadlines match what it publishes: the upsert by event UID.

Runs inside the sync's transaction and writes only through the deadline
services, so every change re-evaluates the jobs under it after commit.
"""

from dataclasses import dataclass, field
from datetime import datetime

from deadlines.bulk import deadlines_withdraw_bulk, feed_deadlines_create, feed_deadlines_update
from deadlines.entries import Cohorts, Defaults, Entry, Problem, Spec, resolve_all
from deadlines.models import Deadline, DeadlineFeed
from deadlines.services import deadline_restore


@dataclass
class Changes:
    created: int = 0
    updated: int = 0
    restored: int = 0
    withdrawn: int = 0
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {
            "created": self.created,
            "updated": self.updated,
            "restored": self.restored,
            "withdrawn": self.withdrawn,
            "unchanged": self.unchanged,
        }


def _kept(uid: str, keep: set[str]) -> bool:
    """Whether `uid` belongs to an event that could not be read this time."""
    return uid in keep or uid.split("#", 1)[0] in keep


def _differs(deadline: Deadline, spec: Spec, feed: DeadlineFeed) -> bool:
    return (
        deadline.title != spec.title
        or deadline.course != spec.course
        or deadline.cohort_name != spec.cohort_name
        or deadline.cohort_size != spec.cohort_size
        or deadline.due != spec.due
        or deadline.team_id != feed.team_id
        or {system.slug for system in deadline.systems.all()} != set(spec.systems)
    )


def feed_entries_apply(
    *,
    feed: DeadlineFeed,
    entries: list[Entry],
    problems: list[Problem],
    since: datetime,
    now: datetime,
) -> Changes:
    """Create, update, restore and withdraw the feed's deadlines to match `entries`.

    Deadlines due before `since` are history: an event that old is not
    imported, and one that left the feed stays as it was (LMSes trim past
    events). A deadline whose event could not be read (`problems`) is kept.
    """
    defaults = Defaults(
        team=feed.team,
        cohort=feed.cohort,
        cohort_size=feed.cohort_size,
        systems=tuple(feed.systems.values_list("slug", flat=True)),
    )
    cohorts = Cohorts(team=feed.team)
    specs, unusable = resolve_all(entries, defaults=defaults, cohorts=cohorts)
    changes = Changes(problems=[*problems, *unusable])
    keep = {problem.uid for problem in changes.problems if problem.uid}
    existing = {
        deadline.external_uid: deadline
        for deadline in Deadline.objects.filter(feed=feed)
        .select_related("cohort")
        .prefetch_related("systems")
    }
    new: list[Spec] = []
    changed: list[tuple[Deadline, Spec]] = []
    for spec in specs:
        deadline = existing.pop(spec.uid, None)
        if deadline is None:
            if spec.due >= since:
                new.append(spec)
        else:
            _refresh(deadline, spec=spec, feed=feed, changes=changes, changed=changed)
    gone = [
        deadline
        for uid, deadline in existing.items()
        if deadline.withdrawn_at is None and deadline.due >= since and not _kept(uid, keep)
    ]
    # In bulk: a handful of queries for thousands of deadlines, not several each.
    feed_deadlines_create(feed=feed, specs=new, cohorts=cohorts, now=now)
    feed_deadlines_update(changes=changed, feed=feed, cohorts=cohorts, now=now)
    deadlines_withdraw_bulk(deadlines=gone, now=now)
    changes.created += len(new)
    changes.updated += len(changed)
    changes.withdrawn += len(gone)
    return changes


def _refresh(
    deadline: Deadline,
    *,
    spec: Spec,
    feed: DeadlineFeed,
    changes: Changes,
    changed: list[tuple[Deadline, Spec]],
) -> None:
    """Bring back a deadline whose event returned; note it for the update if the event changed."""
    restored = deadline.withdrawn_at is not None
    if restored:
        deadline_restore(deadline=deadline)
        changes.restored += 1
    if _differs(deadline, spec, feed):
        changed.append((deadline, spec))
    elif not restored:
        changes.unchanged += 1

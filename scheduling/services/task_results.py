"""Successful background-task results: kept per task function, pruned daily.

django-q2's monitor can prune them itself (`save_limit`), but it locks and
loads every kept result each time it saves one (60 ms a task with 1,000 kept:
a feed sync's 800 notifications took 48 s of it), and one busy function
evicts the others, the heartbeat `/readyz` reads among them. So `save_limit`
is 0 (the monitor keeps everything) and this prune, part of the daily upkeep,
keeps the newest results of each function. Failures are never pruned here.
"""

from django.db.models import Count
from django_q.models import Success

KEEP_PER_FUNCTION = 1000


def task_results_prune(*, keep: int = KEEP_PER_FUNCTION) -> int:
    """Delete all but the newest `keep` successful results of each task function."""
    deleted = 0
    crowded = (
        Success.objects.order_by()
        .values("func")
        .annotate(kept=Count("id"))
        .filter(kept__gt=keep)
        .values_list("func", flat=True)
    )
    for func in list(crowded):
        ours = Success.objects.filter(func=func)
        newest = ours.order_by("-stopped", "-id").values_list("id", flat=True)[:keep]
        deleted += ours.exclude(id__in=list(newest)).delete()[0]
    return deleted

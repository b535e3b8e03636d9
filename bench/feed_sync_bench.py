"""A deadline-feed sync of 5,000 changed deadlines, timeline and re-evaluation included.

Runs on a scratch copy of the generated dataset (CREATE DATABASE ... TEMPLATE),
never on the benchmark's own databases. A JSON feed of 5,000 deadlines on
random systems is synced once (created), then again with every due moved by a
day (5,000 updates): the second sync is timed, with re-evaluation run inline
after the commit (CLEARWAY_TASKS_SYNC=1), and the timeline compared with a
rebuild afterwards.

    python bench/feed_sync_bench.py --scale 0.1 --deadlines 5000
"""

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import PG, PY, ROOT, django_env, ensure_dataset, sh

CODE = r"""
import importlib, json, random, time
from collections import Counter
from datetime import timedelta
from unittest import mock
from django.utils import timezone
from deadlines.feeds import sync
from deadlines.feeds.fetch import Fetched
from deadlines.models import DeadlineFeed
from scheduling.models import Delivery, MaintenanceJob, System, Team
from scheduling.timeline.services import timeline_differences

count = int(COUNT)
PROFILE = "PROFILE_PATH"
team = Team.objects.get(slug="team-0")
slugs = list(System.objects.values_list("slug", flat=True))
rng = random.Random(13)
now = timezone.now().replace(microsecond=0)
items = [
    {"uid": f"bench-{n}", "title": f"Assignment {n}", "cohort_size": rng.choice([40, 120, 300]),
     "due": (now + timedelta(days=rng.randrange(2, 300), hours=rng.randrange(24))).isoformat(),
     "systems": rng.sample(slugs, 2)}
    for n in range(count)
]
feed = DeadlineFeed.objects.create(url="https://lms.invalid/feed.json", format="json", team=team,
                                   cohort_size=100)

def body(entries):
    return Fetched(body=json.dumps(entries).encode(), etag="", last_modified="", not_modified=False)

# Where a sync's time goes: seconds inside each of these (nested calls counted once).
PARTS = {
    "validation": ("deadlines.feeds.apply", "resolve_all"),
    "timeline_refresh": ("scheduling.timeline.bulk", "timeline_refresh_windows"),
    "reevaluation": ("scheduling.services.reevaluation", "reevaluate_windows"),
    # ... of which: the batch read and fold, the jobs taken one by one, the bulk store.
    "reevaluation_batch_read": ("scheduling.services.evaluation_batch", "assess"),
    "reevaluation_one_by_one": ("scheduling.services.reevaluation", "maintenance_job_reevaluate"),
    "reevaluation_bulk_store": ("scheduling.services.reevaluation", "_store_evaluations"),
    # Follow-up tasks the sync queues that are not re-evaluation: sending the
    # notifications it caused, and rendering the moved deadlines' feed texts.
    "notifications_sent": ("scheduling.tasks", "send_delivery"),
    "deadline_feed_texts": ("deadlines.tasks", "store_feed_texts"),
}

def timed(entries):
    spent = dict.fromkeys(PARTS, 0.0)
    calls = dict.fromkeys(PARTS, 0)
    patches = [mock.patch.object(sync, "fetch_feed", return_value=body(entries))]
    for part, (module, name) in PARTS.items():
        real = getattr(importlib.import_module(module), name)
        def wrapper(*args, _real=real, _part=part, **kwargs):
            started = time.perf_counter()
            calls[_part] += 1
            try:
                return _real(*args, **kwargs)
            finally:
                spent[_part] += time.perf_counter() - started
        patches.append(mock.patch(f"{module}.{name}", wrapper))
    for patch in patches:
        patch.start()
    try:
        started = time.perf_counter()
        result = sync.feed_sync(feed_id=feed.pk)
        parts = {k: round(v, 2) for k, v in spent.items()}
        parts["jobs_one_by_one"] = calls["reevaluation_one_by_one"]
        parts["notifications"] = calls["notifications_sent"]
        return time.perf_counter() - started, result, parts
    finally:
        for patch in patches:
            patch.stop()

statuses = lambda: dict(Counter(MaintenanceJob.objects.values_list("status", flat=True)))
before = statuses()
created_s, first, first_parts = timed(items)
after_first = statuses()
for item in items:
    item["due"] = (timezone.datetime.fromisoformat(item["due"]) + timedelta(days=1)).isoformat()
if PROFILE:
    import cProfile
    profiler = cProfile.Profile()
    profiler.enable()
changed_s, second, second_parts = timed(items)
if PROFILE:
    profiler.disable()
    profiler.dump_stats(PROFILE)
deliveries = Delivery.objects.count()
# The target's figure: the sync with its timeline and re-evaluation, not the
# follow-up tasks (notifications, deadline feed texts) a worker runs beside it.
through_reevaluation = (
    changed_s - second_parts["notifications_sent"] - second_parts["deadline_feed_texts"]
)
print(json.dumps({"deliveries": deliveries, "created_s": round(created_s, 2),
                  "first": first.changes, "first_parts": first_parts, "ok": second.ok,
                  "changed_s": round(changed_s, 2),
                  "changed_through_reevaluation_s": round(through_reevaluation, 2),
                  "second": second.changes,
                  "second_parts": second_parts, "statuses": [before, after_first, statuses()],
                  "error": second.error, "timeline_differences": len(timeline_differences())}))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--deadlines", type=int, default=5000)
    parser.add_argument("--scratch", default="", help="scratch database name (default: derived)")
    parser.add_argument(
        "--profile", default="", help="write a cProfile of the timed sync to this file"
    )
    args = parser.parse_args()
    template = ensure_dataset(args.scale)
    scratch = args.scratch or f"{template}_feedsync"
    sh("psql", f"{PG}/postgres", "-qc", f"DROP DATABASE IF EXISTS {scratch}")
    sh("psql", f"{PG}/postgres", "-qc", f"CREATE DATABASE {scratch} TEMPLATE {template}")
    try:
        env = django_env(
            scratch,
            CLEARWAY_TASKS_SYNC="1",
            CLEARWAY_CURRICULUM_TEAMS="team-0",
            DB_STATEMENT_TIMEOUT_MS="0",
            DB_IDLE_IN_TRANSACTION_MS="0",
        )
        code = CODE.replace("COUNT", str(args.deadlines)).replace("PROFILE_PATH", args.profile)
        # The first sync re-evaluates a dataset generated without evaluations.
        out = sh(PY, "manage.py", "shell", "-c", code, env=env, timeout=3600)
        figures = json.loads(out.strip().splitlines()[-1])
        figures.update(scale=args.scale, deadlines=args.deadlines, load=os.getloadavg())
        (ROOT / "bench" / "feed_sync_results.json").write_text(json.dumps(figures, indent=2) + "\n")
        print(json.dumps(figures, indent=2))
    finally:
        sh("psql", f"{PG}/postgres", "-qc", f"DROP DATABASE IF EXISTS {scratch}")


if __name__ == "__main__":
    main()

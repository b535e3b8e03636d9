"""iCal feeds: the naive icalendar build against the cached, streamed feed.

Run from the repository root (DATABASE_URL picks the database; SQLite by
default):

    .venv/bin/python bench/ical_bench.py [--events 10000] [--stream-events 100000]

It creates a throwaway database (Django's test database, under its own name,
dropped at the end), fills it with N events (jobs, recurring or not,
blackouts, deadlines with their traffic windows) and times, through the full
Django stack:

- naive: every event built with icalendar into one Calendar, then to_ical();
- cold: GET all.ics with an empty event cache (renders and caches each event);
- warm: GET all.ics again (every event's text comes from the cache);
- 304: a conditional GET with the ETag, against trivial views (same stack):
  one returning a constant, one reading a row with the ORM;
- memory: tracemalloc's peak while streaming a feed of --stream-events events.

Prints the ratios and writes bench/ical_results.json. --strict exits 1 when a
target is missed (warm >= 10x faster than naive; 304 within 1.5x the trivial
view that reads one row).
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
warnings.filterwarnings("ignore", message="No directory at")  # no collectstatic here

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import override_settings, setup_test_environment  # noqa: E402
from django.urls import include, path  # noqa: E402
from django.utils import timezone  # noqa: E402
from ical_dataset import fill  # noqa: E402
from icalendar import Calendar  # noqa: E402

from scheduling.calendar_feeds import assembly, render  # noqa: E402
from scheduling.calendar_feeds.sources import FeedQuery  # noqa: E402
from scheduling.models import Team  # noqa: E402

RESULTS = ROOT / "bench" / "ical_results.json"
WARM_TARGET = 10.0  # warm feed vs naive build
NOT_MODIFIED_TARGET = 1.5  # 304 vs a trivial view reading one row, at most


def trivial(request):
    return HttpResponse("ok", content_type="text/plain")


def trivial_row(request):
    """A trivial endpoint that reads one row with the ORM, as most views do at least."""
    return HttpResponse(str(Team.objects.filter(pk=1).values_list("pk", flat=True).first()))


# The project's URLs plus the two floors for the 304 path.
urlpatterns = [
    path("bench/trivial", trivial),
    path("bench/trivial-row", trivial_row),
    path("", include("config.urls")),
]


def naive_build(*, now) -> bytes:
    """What a feed view without the cache would do: one Calendar, every event built."""
    query = FeedQuery(feed="all", now=now)
    calendar = Calendar()
    calendar.add("prodid", render.PRODID)
    calendar.add("version", "2.0")
    for source in assembly.sources_for(query=query):
        ids = list(source.rows(query=query).order_by("pk").values_list("pk", flat=True))
        for start in range(0, len(ids), assembly.PAGE):
            events = source.events(ids=ids[start : start + assembly.PAGE], query=query)
            for row_events in events.values():
                for event in row_events:
                    for component in render.components(event):
                        calendar.add_component(component)
    calendar.add_missing_timezones()
    return calendar.to_ical()


def fetch(client: Client, url: str, **headers) -> tuple[int, int]:
    response = client.get(url, headers=headers)
    size = 0
    if response.streaming:
        for chunk in response.streaming_content:
            size += len(chunk)
    else:
        size = len(response.content)
    return response.status_code, size


def timed(fn, repeat: int = 1) -> float:
    """The median wall time of `repeat` calls, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def peak_mb(fn) -> tuple[float, float]:
    """(peak, still held afterwards) in MB while running fn under tracemalloc."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    before = tracemalloc.get_traced_memory()[0]
    fn()
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return (peak - before) / 1e6, (current - before) / 1e6


def measure(*, events: int, stream_events: int, url: str, client: Client) -> dict:
    store = assembly._store()
    now = timezone.now()
    out: dict = {"events": events}

    print(f"iCal feeds on {connection.vendor}, {events:,} events")
    store.clear()
    out["naive_s"] = timed(lambda: naive_build(now=now))
    out["naive_peak_mb"], _ = peak_mb(lambda: naive_build(now=now))
    store.clear()
    status, size = fetch(client, url)
    assert status == 200, status
    out["body_mb"] = size / 1e6
    store.clear()
    out["cold_s"] = timed(lambda: fetch(client, url))
    out["warm_s"] = timed(lambda: fetch(client, url), repeat=5)
    etag = client.get(url)["ETag"]
    out["not_modified_ms"] = 1000 * timed(lambda: fetch(client, url, If_None_Match=etag), 200)
    out["trivial_ms"] = 1000 * timed(lambda: fetch(client, "/bench/trivial"), 200)
    out["trivial_row_ms"] = 1000 * timed(lambda: fetch(client, "/bench/trivial-row"), 200)
    out["warm_speedup"] = out["naive_s"] / out["warm_s"]
    out["cold_speedup"] = out["naive_s"] / out["cold_s"]
    out["not_modified_ratio"] = out["not_modified_ms"] / out["trivial_row_ms"]
    out["not_modified_vs_constant"] = out["not_modified_ms"] / out["trivial_ms"]
    out["warm_peak_mb"], _ = peak_mb(lambda: fetch(client, url))
    store.clear()
    out["cold_peak_mb"], out["cache_mb"] = peak_mb(lambda: fetch(client, url))

    print(f"  naive build     {out['naive_s']:8.3f} s   peak {out['naive_peak_mb']:6.1f} MB")
    print(
        f"  feed, cold      {out['cold_s']:8.3f} s   ({out['cold_speedup']:.1f}x naive), "
        f"peak {out['cold_peak_mb']:.1f} MB of which {out['cache_mb']:.1f} MB stays cached"
    )
    print(
        f"  feed, warm      {out['warm_s']:8.3f} s   ({out['warm_speedup']:.1f}x naive), "
        f"peak {out['warm_peak_mb']:.1f} MB"
    )
    print(f"  body            {out['body_mb']:8.2f} MB")
    print(
        f"  304             {out['not_modified_ms']:8.2f} ms  vs a view reading one row "
        f"{out['trivial_row_ms']:.2f} ms ({out['not_modified_ratio']:.2f}x), "
        f"a constant view {out['trivial_ms']:.2f} ms ({out['not_modified_vs_constant']:.2f}x)"
    )

    if stream_events > events:
        fill(events=stream_events - events, offset=events)
        store.clear()
        stream: dict = {"events": stream_events}
        # Timed without tracemalloc (it slows rendering several times over).
        stream["cold_s"] = timed(lambda: fetch(client, url))
        stream["warm_s"] = timed(lambda: fetch(client, url), repeat=3)
        stream["warm_peak_mb"], _ = peak_mb(lambda: fetch(client, url))
        out["stream"] = stream
        print(
            f"  {stream_events:,} events streamed: cold {stream['cold_s']:.1f} s, "
            f"warm {stream['warm_s']:.2f} s, warm peak {stream['warm_peak_mb']:.1f} MB"
        )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--stream-events", type=int, default=100_000)
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()

    setup_test_environment()
    database = settings.DATABASES["default"]
    workdir = tempfile.mkdtemp(prefix="clearway-ical-bench-")
    database.setdefault("TEST", {})["NAME"] = (
        str(Path(workdir) / "bench.sqlite3")
        if connection.vendor == "sqlite"
        else f"clearway_ical_bench_{os.getpid()}"
    )
    created = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    # Room for every event of the streamed feed, so "warm" means warm.
    caches = {
        **settings.CACHES,
        settings.CLEARWAY_FEED_CACHE: {
            **settings.CACHES[settings.CLEARWAY_FEED_CACHE],
            "OPTIONS": {"MAX_ENTRIES": 4 * max(args.events, args.stream_events)},
        },
    }
    try:
        with override_settings(
            ROOT_URLCONF=__name__, CACHES=caches, SECURE_SSL_REDIRECT=False, DEBUG=False
        ):
            secret = fill(events=args.events)
            url = f"/calendar/{secret}/all.ics"
            out = measure(
                events=args.events,
                stream_events=args.stream_events,
                url=url,
                client=Client(),
            )
    finally:
        connection.creation.destroy_test_db(created, verbosity=0)
    out["database"] = connection.vendor
    out["targets"] = {"warm_speedup": WARM_TARGET, "not_modified_ratio": NOT_MODIFIED_TARGET}
    RESULTS.write_text(json.dumps(out, indent=2) + "\n")
    print(f"  written to {RESULTS.relative_to(ROOT)}")
    missed = out["warm_speedup"] < WARM_TARGET or out["not_modified_ratio"] > NOT_MODIFIED_TARGET
    if missed:
        print("  a target was missed", file=sys.stderr)
    return 1 if missed and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())

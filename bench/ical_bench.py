"""iCal feeds: the naive icalendar build against the streamed feed of stored texts.

Run from the repository root (DATABASE_URL picks the database; SQLite by
default):

    .venv/bin/python bench/ical_bench.py [--events 10000] [--stream-events 100000]

It creates a throwaway database (Django's test database, under its own name,
dropped at the end), fills it with N events (jobs, recurring or not,
blackouts, deadlines with their traffic windows) and times, through the full
Django stack:

- naive: every event built with icalendar into one Calendar, then to_ical();
- no stored texts: GET all.ics with no text stored (renders and stores each
  event, as after a RENDER_FORMAT bump);
- stored texts: GET all.ics again (every event's text is read with its row);
- cold process: a freshly started process (CLEARWAY_PROCESS_CACHES=0) GETs
  all.ics once from the stored texts; timed from spawning it to its exit, and
  the request alone;
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
import subprocess
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
from django.core.cache import caches  # noqa: E402
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
from scheduling.models import FeedText, Team  # noqa: E402

RESULTS = ROOT / "bench" / "ical_results.json"
WARM_TARGET = 10.0  # feed of stored texts vs naive build
NOT_MODIFIED_TARGET = 1.5  # 304 vs a trivial view reading one row, at most
# Seconds for a freshly started process to serve --stream-events events (its
# request; starting Python and Django is reported beside it, not counted).
COLD_PROCESS_TARGET = 5.0


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


def analyze() -> None:
    """Fresh planner statistics after a bulk load, as autovacuum gathers them
    in production (without them PostgreSQL may sort whole tables per page)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def forget_texts() -> None:
    """No stored text and nothing a process keeps: the next GET renders every event."""
    FeedText.objects.all().delete()
    caches[settings.CLEARWAY_FEED_CACHE].clear()


def measure(*, events: int, url: str, client: Client) -> dict:
    now = timezone.now()
    out: dict = {"events": events}

    print(f"iCal feeds on {connection.vendor}, {events:,} events")
    out["naive_s"] = timed(lambda: naive_build(now=now))
    out["naive_peak_mb"], _ = peak_mb(lambda: naive_build(now=now))
    forget_texts()
    status, size = fetch(client, url)
    assert status == 200, status
    out["body_mb"] = size / 1e6
    forget_texts()
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
    forget_texts()
    out["cold_peak_mb"], _ = peak_mb(lambda: fetch(client, url))

    print(f"  naive build     {out['naive_s']:8.3f} s   peak {out['naive_peak_mb']:6.1f} MB")
    print(
        f"  no stored texts {out['cold_s']:8.3f} s   ({out['cold_speedup']:.1f}x naive), "
        f"peak {out['cold_peak_mb']:.1f} MB"
    )
    print(
        f"  stored texts    {out['warm_s']:8.3f} s   ({out['warm_speedup']:.1f}x naive), "
        f"peak {out['warm_peak_mb']:.1f} MB"
    )
    print(f"  body            {out['body_mb']:8.2f} MB")
    print(
        f"  304             {out['not_modified_ms']:8.2f} ms  vs a view reading one row "
        f"{out['trivial_row_ms']:.2f} ms ({out['not_modified_ratio']:.2f}x), "
        f"a constant view {out['trivial_ms']:.2f} ms ({out['not_modified_vs_constant']:.2f}x)"
    )
    return out


def measure_stream(*, events: int, url: str, client: Client) -> dict:
    """The big feed: with no stored text, with stored texts, and from a fresh process."""
    forget_texts()
    analyze()
    stream: dict = {"events": events}
    # Timed without tracemalloc (it slows rendering several times over).
    stream["cold_s"] = timed(lambda: fetch(client, url))
    analyze()
    stream["warm_s"] = timed(lambda: fetch(client, url), repeat=3)
    stream["warm_peak_mb"], _ = peak_mb(lambda: fetch(client, url))
    runs = [fresh_process(url) for _ in range(3)]
    stream["cold_process_s"] = statistics.median(run["process_s"] for run in runs)
    stream["cold_process_request_s"] = statistics.median(run["request_s"] for run in runs)
    stream["cold_process_rendered"] = max(run["rendered"] for run in runs)
    print(
        f"  {events:,} events streamed: no stored texts {stream['cold_s']:.1f} s, "
        f"stored texts {stream['warm_s']:.2f} s (peak {stream['warm_peak_mb']:.1f} MB); "
        f"a fresh process {stream['cold_process_s']:.2f} s from spawn to exit, "
        f"{stream['cold_process_request_s']:.2f} s for the request, "
        f"{stream['cold_process_rendered']} events rendered"
    )
    return stream


def database_url() -> str:
    """DATABASE_URL of the benchmark's database, for a second process."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    host = db["HOST"] or "127.0.0.1"
    return f"postgres://{db['USER']}{password}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


def fresh_process(url: str) -> dict:
    """Start a new Python process that serves `url` once; its timings."""
    env = {**os.environ, "DATABASE_URL": database_url(), "CLEARWAY_PROCESS_CACHES": "0"}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, __file__, "--serve-once", url],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    found = json.loads(done.stdout.strip().splitlines()[-1])
    found["process_s"] = time.perf_counter() - started
    return found


def serve_once(url: str) -> int:
    """In a fresh process: GET `url` once, print the request's time and renders."""
    setup_test_environment()
    rendered = []
    original = render.components

    def counted(event):
        rendered.append(1)
        return original(event)

    render.components = counted
    with override_settings(ROOT_URLCONF=__name__, SECURE_SSL_REDIRECT=False, DEBUG=False):
        started = time.perf_counter()
        status, size = fetch(Client(), url)
        took = time.perf_counter() - started
    assert status == 200, status
    print(json.dumps({"request_s": took, "bytes": size, "rendered": len(rendered)}))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--stream-events", type=int, default=100_000)
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--serve-once", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_once:
        return serve_once(args.serve_once)

    setup_test_environment()
    database = settings.DATABASES["default"]
    workdir = tempfile.mkdtemp(prefix="clearway-ical-bench-")
    database.setdefault("TEST", {})["NAME"] = (
        str(Path(workdir) / "bench.sqlite3")
        if connection.vendor == "sqlite"
        else f"clearway_ical_bench_{os.getpid()}"
    )
    created = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        with override_settings(ROOT_URLCONF=__name__, SECURE_SSL_REDIRECT=False, DEBUG=False):
            secret = fill(events=args.events)
            analyze()
            url = f"/calendar/{secret}/all.ics"
            client = Client()
            out = measure(events=args.events, url=url, client=client)
            if args.stream_events > args.events:
                fill(events=args.stream_events - args.events, offset=args.events)
                out["stream"] = measure_stream(events=args.stream_events, url=url, client=client)
    finally:
        connection.creation.destroy_test_db(created, verbosity=0)
    out["database"] = connection.vendor
    out["targets"] = {
        "warm_speedup": WARM_TARGET,
        "not_modified_ratio": NOT_MODIFIED_TARGET,
        "cold_process_request_s": COLD_PROCESS_TARGET,
    }
    RESULTS.write_text(json.dumps(out, indent=2) + "\n")
    print(f"  written to {RESULTS.relative_to(ROOT)}")
    missed = (
        out["warm_speedup"] < WARM_TARGET
        or out["not_modified_ratio"] > NOT_MODIFIED_TARGET
        or out.get("stream", {}).get("cold_process_request_s", 0) > COLD_PROCESS_TARGET
    )
    if missed:
        print("  a target was missed", file=sys.stderr)
    return 1 if missed and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())

"""Checks under churn: random windows asked while a writer publishes a deadline a second.

Part of `make bench`. For each scale it serves the generated dataset with
gunicorn (production settings, 2 sync workers, per-process caches off) and
measures with wrk, in one run: the bare floor (bench.floor: DRF, no auth, no
database); `POST /api/v1/checks` with a random 2-hour window on 2 random
systems per request and nothing else happening; then the same while a writer
process publishes one deadline a second through `deadline_create` (random due
within 300 days, random cohort, 2 random systems), its re-evaluation run
inline (`CLEARWAY_TASKS_SYNC=1`) as a worker would run it. A refused or
flagged check is still a 200, so every non-2xx answer and every socket error
counts as an error (target: none, and checks under churn at least 0.3x the
bare floor). Figures go to bench/churn_results.json.

    python bench/churn.py --scales 0.01 1.0 --seconds 20
"""

import argparse
import json
import os
import random
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cold import PORT, pick
from run import OUT, PY, ROOT, Server, django_env, ensure_dataset, lua, wrk

DAYS = 300


def checks_script(token: str, systems: list[str], now: datetime) -> Path:
    """A wrk script asking checks of a random 2-hour window on 2 random systems."""
    OUT.mkdir(parents=True, exist_ok=True)
    names = ", ".join(f'"{slug}"' for slug in systems)
    script = f"""
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer {token}"
wrk.headers["Content-Type"] = "application/json"
local systems = {{{names}}}
local base = {int(now.timestamp())}
local counter = 0
setup = function(thread) counter = counter + 1; thread:set("seed", counter) end
init = function(args) math.randomseed(os.time() * 1000 + (seed or 0)) end
request = function()
  local a = systems[math.random(#systems)]
  local b = systems[math.random(#systems)]
  local start = base + 900 * math.random(0, {DAYS} * 96)
  local body = string.format(
    '{{"systems": ["%s", "%s"], "start": "%s", "end": "%s"}}', a, b,
    os.date("!%Y-%m-%dT%H:%M:%SZ", start), os.date("!%Y-%m-%dT%H:%M:%SZ", start + 7200))
  return wrk.format(nil, nil, nil, body)
end
"""
    path = OUT / "churn-checks.lua"
    path.write_text(script)
    return path


def write(seconds: float, seed: int) -> None:
    """The writer (run in its own process): one deadline a second for `seconds`."""
    import django

    sys.path.insert(0, str(ROOT))
    django.setup()
    from deadlines.services import deadline_create
    from scheduling.models import System, Team

    rng = random.Random(seed)
    team = Team.objects.order_by("pk").first()
    slugs = list(System.objects.values_list("slug", flat=True))
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    took, errors = [], []
    started = time.monotonic()
    tick = 0
    while time.monotonic() - started < seconds:
        began = time.monotonic()
        try:
            deadline_create(
                team=team,
                title=f"Churn {tick}",
                due=now + timedelta(minutes=rng.randrange(0, DAYS * 24 * 60, 15)),
                cohort_size=rng.choice([50, 150, 400, 1200]),
                systems=rng.sample(slugs, k=2),
            )
        except Exception as exc:  # counted and reported: the run goes on
            errors.append(repr(exc)[:200])
        took.append((time.monotonic() - began) * 1000)
        tick += 1
        # One a second on the clock; a slow publish is not made up with a burst.
        time.sleep(max(0.0, started + tick - time.monotonic()))
    took.sort()
    print(
        json.dumps(
            {
                "published": len(took) - len(errors),
                "errors": errors[:5],
                "error_count": len(errors),
                "publish_p50_ms": round(took[len(took) // 2], 1) if took else None,
                "publish_max_ms": round(took[-1], 1) if took else None,
            }
        )
    )


def churn_run(database: str, seconds: int, connections: int) -> dict:
    found = pick(database)
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    script = checks_script(found["token"], found["systems"], now)
    base = f"http://127.0.0.1:{PORT}"
    result: dict = {}
    with Server(
        database, PORT, 2, DJANGO_SETTINGS_MODULE="bench.floor", CLEARWAY_PROCESS_CACHES="0"
    ):
        wrk(f"{base}/bench/bare", lua("bare", found["token"]), seconds=1, connections=4)
        wrk(f"{base}/api/v1/checks", script, seconds=2, connections=connections)
        result["bare"] = wrk(
            f"{base}/bench/bare", lua("bare", found["token"]), seconds=seconds, connections=4
        )
        result["checks_quiet"] = wrk(
            f"{base}/api/v1/checks", script, seconds=seconds, connections=connections
        )
        writer = subprocess.Popen(
            [PY, str(Path(__file__).resolve()), "--writer", str(seconds + 2)],
            cwd=ROOT,
            env=django_env(database, CLEARWAY_TASKS_SYNC="1", CLEARWAY_PROCESS_CACHES="0"),
            stdout=subprocess.PIPE,
            text=True,
        )
        time.sleep(1)  # the writer's imports, so it writes for the whole measurement
        result["checks_churn"] = wrk(
            f"{base}/api/v1/checks", script, seconds=seconds, connections=connections
        )
        out, _ = writer.communicate(timeout=seconds + 600)
        result["writer"] = json.loads(out.strip().splitlines()[-1])
    for name in ("checks_quiet", "checks_churn"):
        result[name]["of_bare"] = round(result[name]["rps"] / result["bare"]["rps"], 2)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scales", type=float, nargs="+", default=[0.01, 1.0])
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--writer", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.writer is not None:
        write(args.writer, seed=os.getpid())
        return
    results: dict = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": args.seconds,
        "connections": args.connections,
        "workers": 2,
        "caches": "off",
    }
    for scale in args.scales:
        database = ensure_dataset(scale)
        print(f"checks under churn at scale {scale}...", flush=True)
        results[str(scale)] = churn_run(database, args.seconds, args.connections)
        print(json.dumps(results[str(scale)]), flush=True)
    (ROOT / "bench" / "churn_results.json").write_text(json.dumps(results, indent=2) + "\n")
    report(results, args.scales)


def report(results: dict, scales: list[float]) -> None:
    print(f"\n{'scale':<6} {'':<14} {'req/s':>8} {'x bare':>7} {'p50 ms':>8} {'p99 ms':>8} errors")
    for scale in scales:
        for name in ("bare", "checks_quiet", "checks_churn"):
            f = results[str(scale)][name]
            print(
                f"{scale:<6} {name:<14} {f['rps']:>8.1f} {f.get('of_bare', 1.0):>7.2f} "
                f"{f['p50_ms']:>8.1f} {f['p99_ms']:>8.1f} {f['non_2xx'] + f['errors']}"
            )
        print(f"{scale:<6} writer: {results[str(scale)]['writer']}")


if __name__ == "__main__":
    main()

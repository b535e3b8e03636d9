"""`make bench`: the CI endpoints under load, against a floor measured in the same run.

Starts gunicorn (sync workers, one per core, production settings) on
PostgreSQL with the generated dataset, drives each endpoint with wrk on
loopback for a bounded time, and prints requests/s, p50 and p99 per endpoint
and each one's throughput as a ratio of the floor's (a DRF view returning a
constant behind the same token authentication). Then it measures how a
check's latency grows from 1 % of the dataset to all of it. Figures go to
bench/results.json.
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PY = sys.executable
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")


def sh(*args: str, env: dict | None = None, check: bool = True, timeout: int | None = 900) -> str:
    done = subprocess.run(
        args, cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=timeout
    )
    if check and done.returncode != 0:
        sys.exit(f"failed: {' '.join(args)}\n{done.stdout}\n{done.stderr}")
    return done.stdout


def django_env(database: str, **extra: str) -> dict:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"{PG}/{database}",
        DEBUG="0",
        SECRET_KEY="bench-" + "x" * 50,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        CLEARWAY_API_RATE="100000000/s",
        DB_CONN_MAX_AGE="600",
        LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    env.update(extra)
    return env


def ensure_dataset(scale: float) -> str:
    """A database holding the dataset at `scale`, generated once and reused."""
    prefix = os.environ.get("BENCH_DB_PREFIX", "clearway_bench")
    database = f"{prefix}_{str(scale).replace('.', '_')}"
    env = django_env(database)
    marker = f"dataset generated at scale {scale}"
    exists = sh(
        "psql", f"{PG}/postgres", "-tAc", f"SELECT 1 FROM pg_database WHERE datname='{database}'"
    )
    if exists.strip() == "1":
        found = sh(
            "psql",
            f"{PG}/{database}",
            "-tAc",
            f"SELECT count(*) FROM scheduling_calendarchange WHERE reason = '{marker}'",
            check=False,
        )
        if found.strip() == "1":
            sh(PY, "manage.py", "migrate", "--no-input", "-v0", env=env)
            return database
        sh("psql", f"{PG}/postgres", "-qc", f"DROP DATABASE {database}")
    print(f"  generating the dataset at scale {scale} (once; reused next time)...", flush=True)
    sh("psql", f"{PG}/postgres", "-qc", f"CREATE DATABASE {database}")
    sh(PY, "manage.py", "migrate", "--no-input", "-v0", env=env)
    # Generating (and building the timeline of) a large dataset holds one
    # transaction for minutes (scale 5: most of an hour): no idle, statement
    # or subprocess time limit for this command.
    generating = dict(env, DB_IDLE_IN_TRANSACTION_MS="0", DB_STATEMENT_TIMEOUT_MS="0")
    print(
        "  "
        + sh(
            PY, "manage.py", "generate_dataset", "--scale", str(scale), env=generating, timeout=None
        ).strip()
    )
    sh("psql", f"{PG}/{database}", "-qc", "ANALYZE")
    return database


def targets(database: str) -> dict:
    """A token and what to ask: an approved job of team-0, its systems, a window."""
    env = django_env(database)
    token = sh(PY, "manage.py", "create_token", "team-0", f"bench {time.time():.0f}", env=env)
    code = (
        "import json; from scheduling.models import MaintenanceJob as J; "
        "j = J.objects.filter(team__slug='team-0', status='approved').order_by('start').last(); "
        "print(json.dumps({'job': j.pk, 'systems': [s.slug for s in j.systems.all()]}))"
    )
    picked = json.loads(sh(PY, "manage.py", "shell", "-c", code, env=env).strip().splitlines()[-1])
    picked["token"] = token.strip().splitlines()[-1]
    return picked


class Server:
    def __init__(self, database: str, port: int, workers: int, **env: str) -> None:
        self.database, self.port, self.workers, self.env = database, port, workers, env

    def __enter__(self) -> "Server":
        env = django_env(self.database, **self.env)
        self.proc = subprocess.Popen(
            [
                str(Path(PY).parent / "gunicorn"),
                "config.wsgi",
                "-w",
                str(self.workers),
                "-b",
                f"127.0.0.1:{self.port}",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=1)
                return self
            except OSError:
                time.sleep(0.2)
        self.__exit__()
        sys.exit("gunicorn did not start")

    def rss_mb(self) -> list[float]:
        children = sh("pgrep", "-P", str(self.proc.pid), check=False).split()
        sizes = []
        for pid in children:
            status = Path(f"/proc/{pid}/status")
            if status.exists():
                match = re.search(r"VmRSS:\s+(\d+) kB", status.read_text())
                if match:
                    sizes.append(round(int(match.group(1)) / 1024, 1))
        return sizes

    def __exit__(self, *exc) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)
        self.proc.wait(timeout=30)


def lua(
    name: str, token: str, method: str = "GET", body: dict | None = None, cold: bool = False
) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    script = [f'wrk.headers["Authorization"] = "Bearer {token}"', f'wrk.method = "{method}"']
    if body is not None:
        script.append('wrk.headers["Content-Type"] = "application/json"')
        if cold:
            # A different day for every request, so each one misses the cache.
            script += [
                f"local template = [[{json.dumps(body)}]]",
                "request = function()",
                '  local m = string.format("%02d", math.random(1, 12))',
                '  local d = string.format("%02d", math.random(1, 28))',
                '  local text = (template:gsub("MONTH", m):gsub("DAY", d))',
                "  return wrk.format(nil, nil, nil, text)",
                "end",
            ]
        else:
            script.append(f"wrk.body = '{json.dumps(body)}'")
    path = OUT / f"{name}.lua"
    path.write_text("\n".join(script) + "\n")
    return path


def wrk(url: str, script: Path, *, seconds: int, connections: int, threads: int = 2) -> dict:
    out = sh(
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "-s",
        str(script),
        url,
    )
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    latency = {p: _ms(re.search(rf"\s{p}%\s+([\d.]+\w+)", out).group(1)) for p in ("50", "99")}
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "rps": round(rps, 1),
        "p50_ms": latency["50"],
        "p99_ms": latency["99"],
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
        "errors": sum(int(n) for n in socket.groups()) if socket else 0,
    }


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()
    return round(float(value) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit], 3)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (apt-get install wrk); `make bench` installs it.")
    workers = os.cpu_count() or 2
    started = time.monotonic()
    print("Preparing datasets", flush=True)
    small, full = ensure_dataset(round(args.scale / 100, 4)), ensure_dataset(args.scale)
    results: dict = {
        "machine": {"cores": workers, "python": sys.version.split()[0]},
        "command": "make bench",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "workers": workers,
        "seconds_per_endpoint": args.seconds,
        "connections": args.connections,
        "endpoints": {},
    }

    tomorrow = datetime.now(UTC).replace(hour=8, minute=0, second=0, microsecond=0) + timedelta(
        days=1
    )
    picked = targets(full)
    check = {
        "systems": picked["systems"],
        "start": tomorrow.isoformat(),
        "end": (tomorrow + timedelta(hours=4)).isoformat(),
        "impact": "exclusive_lock",
    }
    systems = ",".join(picked["systems"])
    base = "http://127.0.0.1:8765/api/v1"
    plan = [
        ("floor", f"{base}/ping", lua("floor", picked["token"])),
        ("gate", f"{base}/jobs/{picked['job']}/gate", lua("gate", picked["token"])),
        ("state", f"{base}/state?systems={systems}", lua("state", picked["token"])),
        ("checks", f"{base}/checks", lua("checks", picked["token"], "POST", check)),
    ]
    print(
        f"Load: {workers} gunicorn workers, wrk {args.connections} connections, "
        f"{args.seconds}s each",
        flush=True,
    )
    with Server(full, 8765, workers) as server:
        for _, url, script in plan:
            wrk(url, script, seconds=2, connections=args.connections)  # warm up
        # Two rounds in opposite orders, averaged: a burst of load from
        # elsewhere on the machine then hits every endpoint alike.
        runs: dict[str, list[dict]] = {name: [] for name, _, _ in plan}
        for order in (plan, plan[::-1]):
            for name, url, script in order:
                runs[name].append(
                    wrk(
                        url, script, seconds=max(1, args.seconds // 2), connections=args.connections
                    )
                )
        for name, measured in runs.items():
            results["endpoints"][name] = {
                key: round(sum(m[key] for m in measured) / len(measured), 3)
                for key in ("rps", "p50_ms", "p99_ms")
            } | {"non_2xx": sum(m["non_2xx"] for m in measured)}
        results["rss_mb_per_worker"] = server.rss_mb()

    floor = results["endpoints"]["floor"]
    for figures in results["endpoints"].values():
        figures["rps_ratio"] = round(figures["rps"] / floor["rps"], 2)
        figures["p99_ratio"] = (
            round(figures["p99_ms"] / floor["p99_ms"], 2) if floor["p99_ms"] else None
        )

    print("Scale curve: one client, checks on 1 % and on 100 % of the dataset", flush=True)
    cold_body = dict(
        check, start="2027-MONTH-DAYT08:00:00+00:00", end="2027-MONTH-DAYT12:00:00+00:00"
    )
    curve = {}
    for label, database in (("1%", small), ("100%", full)):
        picked_here = targets(database)
        body = dict(check, systems=picked_here["systems"])
        cold = dict(cold_body, systems=picked_here["systems"])
        with Server(database, 8766, 1):
            url = "http://127.0.0.1:8766/api/v1/checks"
            warm_script = lua(f"curve-{label}", picked_here["token"], "POST", body)
            cold_script = lua(f"curve-cold-{label}", picked_here["token"], "POST", cold, cold=True)
            wrk(url, warm_script, seconds=1, connections=1, threads=1)
            curve[label] = {
                "cached_p50_ms": wrk(url, warm_script, seconds=5, connections=1, threads=1)[
                    "p50_ms"
                ],
                "uncached_p50_ms": wrk(url, cold_script, seconds=5, connections=1, threads=1)[
                    "p50_ms"
                ],
            }
    results["check_scale_curve"] = curve
    results["check_scale_ratio"] = {
        kind: round(curve["100%"][kind] / curve["1%"][kind], 2)
        for kind in ("cached_p50_ms", "uncached_p50_ms")
    }
    results["elapsed_s"] = round(time.monotonic() - started, 1)
    (ROOT / "bench" / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    report(results)


def report(results: dict) -> None:
    print()
    print(
        "{:<8} {:>9} {:>8} {:>8} {:>14} {:>12}".format(
            "endpoint", "req/s", "p50 ms", "p99 ms", "x floor req/s", "x floor p99"
        )
    )
    for name, f in results["endpoints"].items():
        print(
            f"{name:<8} {f['rps']:>9.1f} {f['p50_ms']:>8.2f} {f['p99_ms']:>8.2f} "
            f"{f['rps_ratio']:>14.2f} {f['p99_ratio'] or 0:>12.2f}"
        )
    print(f"RSS per worker (MB): {results['rss_mb_per_worker']}")
    for label, figures in results["check_scale_curve"].items():
        print(
            f"check p50 at {label:>4}: cached {figures['cached_p50_ms']} ms, "
            f"uncached {figures['uncached_p50_ms']} ms"
        )
    print(f"check latency, 100 % / 1 %: {results['check_scale_ratio']}")
    print(f"({results['elapsed_s']} s; written to bench/results.json)")


if __name__ == "__main__":
    main()

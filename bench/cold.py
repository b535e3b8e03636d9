"""Cold questions at two scales, and every figure against two floors.

Part of `make bench`. For each scale it serves the generated dataset with
gunicorn (production settings, per-process caches off: several app machines
behave like that) and asks, from one client, questions nothing has seen: the
gate of a random approved job at a random instant, the state of random systems
at a random instant, checks of a random 2-hour window, slots (PT4H) of random
systems after a random instant. p50, p90 and max per question, and the growth
from the small scale to the large one. Then wrk measures throughput of the
bare floor (bench.floor: DRF, no auth, no database), /ping (the token floor)
and the hot gate and state (two rounds in opposite orders, averaged), each as
a ratio of both floors. Figures go to
bench/cold_results.json.

    python bench/cold.py --scales 0.01 0.1 --questions 200
"""

import argparse
import json
import random
import socket
import statistics
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import PY, ROOT, Server, django_env, ensure_dataset, lua, sh, wrk


def free_port() -> int:
    """A port the OS has free on loopback (other benches may be running)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


PORT = free_port()


def pick(database: str) -> dict:
    """A team-0 token, team-0's approved jobs, every system, and the horizon."""
    env = django_env(database)
    token = sh(PY, "manage.py", "create_token", "team-0", f"cold {time.time():.0f}", env=env)
    code = (
        "import json; from scheduling.models import MaintenanceJob as J, System as S; "
        "jobs = list(J.objects.filter(team__slug='team-0', status='approved')"
        ".values_list('pk', flat=True)); "
        "slugs = list(S.objects.values_list('slug', flat=True)); "
        "print(json.dumps({'jobs': jobs, 'systems': slugs}))"
    )
    found = json.loads(sh(PY, "manage.py", "shell", "-c", code, env=env).strip().splitlines()[-1])
    found["token"] = token.strip().splitlines()[-1]
    return found


def ask(url: str, token: str, body: dict | None = None) -> float:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url,
        data=data,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            response.read()
    except urllib.error.HTTPError as exc:
        exc.read()
        if exc.code not in (423,):
            raise
    return (time.perf_counter() - started) * 1000


def questions(found: dict, rng: random.Random, now: datetime):
    base = f"http://127.0.0.1:{PORT}/api/v1"

    def instant() -> datetime:
        minutes = rng.randrange(0, 300 * 24 * 60, 15)
        return now + timedelta(minutes=minutes)

    def systems(k: int = 2) -> list[str]:
        return rng.sample(found["systems"], k=min(k, len(found["systems"])))

    def window(start: datetime) -> dict:
        end = start + timedelta(hours=2)
        return {"systems": systems(), "start": start.isoformat(), "end": end.isoformat()}

    return {
        "gate": lambda: (f"{base}/jobs/{rng.choice(found['jobs'])}/gate?at={_q(instant())}", None),
        "state": lambda: (f"{base}/state?systems={','.join(systems())}&at={_q(instant())}", None),
        "checks": lambda: (
            f"{base}/checks",
            (
                lambda s: {
                    "systems": systems(),
                    "start": s.isoformat(),
                    "end": (s + timedelta(hours=2)).isoformat(),
                }
            )(instant()),
        ),
        "slots": lambda: (
            f"{base}/slots?systems={','.join(systems())}&duration=PT4H&after={_q(instant())}",
            None,
        ),
    }


def _q(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def cold_run(database: str, count: int, seed: int) -> dict:
    found = pick(database)
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    figures = {}
    with Server(database, PORT, 1, CLEARWAY_PROCESS_CACHES="0"):
        for name, make in questions(found, rng, now).items():
            for _ in range(5):  # the connection and the worker's imports, not the data
                ask(*make()[:1], found["token"], make()[1])
            samples = sorted(
                ask(url, found["token"], body) for url, body in (make() for _ in range(count))
            )
            figures[name] = {
                "p50_ms": round(statistics.median(samples), 1),
                "p90_ms": round(samples[int(len(samples) * 0.9) - 1], 1),
                "max_ms": round(samples[-1], 1),
            }
    return figures


def floors(database: str, seconds: int) -> dict:
    found = pick(database)
    job = found["jobs"][0]
    base = f"http://127.0.0.1:{PORT}"
    plan = {
        "bare": (f"{base}/bench/bare", lua("bare", found["token"])),
        "ping": (f"{base}/api/v1/ping", lua("ping", found["token"])),
        "gate_hot": (f"{base}/api/v1/jobs/{job}/gate", lua("gate-hot", found["token"])),
        "state_hot": (
            f"{base}/api/v1/state?systems={found['systems'][0]}",
            lua("state-hot", found["token"]),
        ),
    }
    runs: dict[str, list[dict]] = {name: [] for name in plan}
    with Server(
        database, PORT, 2, DJANGO_SETTINGS_MODULE="bench.floor", CLEARWAY_PROCESS_CACHES="0"
    ):
        for url, script in plan.values():
            wrk(url, script, seconds=1, connections=4)
        # Two rounds in opposite orders, averaged, as bench/run.py does: on a
        # shared machine a burst of load elsewhere then hits every endpoint alike.
        for order in (list(plan), list(reversed(plan))):
            for name in order:
                url, script = plan[name]
                runs[name].append(wrk(url, script, seconds=seconds, connections=4))
    result = {name: _mean(found) for name, found in runs.items()}
    for figures in result.values():
        figures["of_bare"] = round(figures["rps"] / result["bare"]["rps"], 2)
        figures["of_ping"] = round(figures["rps"] / result["ping"]["rps"], 2)
    return result


def _mean(runs: list[dict]) -> dict:
    return {
        "rps": round(statistics.mean(r["rps"] for r in runs), 1),
        "p50_ms": round(statistics.mean(r["p50_ms"] for r in runs), 2),
        "p99_ms": round(statistics.mean(r["p99_ms"] for r in runs), 2),
        "non_2xx": sum(r["non_2xx"] for r in runs),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scales", type=float, nargs=2, default=[0.01, 0.1])
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=5)
    args = parser.parse_args()
    small, large = args.scales
    results = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "scales": args.scales,
        "questions_each": args.questions,
        "caches": "off",
    }
    for scale in (small, large):
        database = ensure_dataset(scale)
        print(f"cold questions at scale {scale}...", flush=True)
        results[str(scale)] = cold_run(database, args.questions, seed=13)
    results["growth_p50"] = {
        name: round(results[str(large)][name]["p50_ms"] / results[str(small)][name]["p50_ms"], 2)
        for name in results[str(small)]
    }
    print("floors and hot answers (wrk, 2 workers, 4 connections)...", flush=True)
    results["throughput"] = floors(ensure_dataset(large), args.seconds)
    (ROOT / "bench" / "cold_results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

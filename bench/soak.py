"""`make soak`: the incident inside Clearway, bounded to about two minutes.

Many CI clients ask the gate while a writer books jobs through the API; in
the middle, another connection holds an ACCESS EXCLUSIVE lock on the jobs
table for ten seconds. Pass: zero 500s, every failure a 503, and the
bookings in the database are exactly those that were answered 201 (none
lost, none duplicated), reconciled by SQL afterwards. Loopback only.
"""

import http.client
import json
import os
import statistics
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import PG, PY, Server, sh

DATABASE = "clearway_soak"
PORT = 8767
DURATION = float(os.environ.get("SOAK_SECONDS", 60))
LOCK_AT, LOCK_FOR = 20.0, 10.0
GATE_CLIENTS = int(os.environ.get("SOAK_CLIENTS", 16))


def setup() -> dict:
    sh("psql", f"{PG}/postgres", "-qc", f"DROP DATABASE IF EXISTS {DATABASE}")
    sh("psql", f"{PG}/postgres", "-qc", f"CREATE DATABASE {DATABASE}")
    env = {**os.environ, "DATABASE_URL": f"{PG}/{DATABASE}", "LOG_LEVEL": "WARNING"}
    sh(PY, "manage.py", "migrate", "--no-input", "-v0", env=env)
    sh(PY, "manage.py", "generate_dataset", "--scale", "0.02", env=env)
    token = (
        sh(
            PY,
            "manage.py",
            "create_token",
            "team-0",
            "soak",
            "--scope",
            "gate:read",
            "--scope",
            "jobs:write",
            env=env,
        )
        .strip()
        .splitlines()[-1]
    )
    code = (
        "import json; from scheduling.models import MaintenanceJob as J, System; "
        "j = J.objects.filter(team__slug='team-0').order_by('pk').first(); "
        "s = System.objects.filter(team__slug='team-0').first(); "
        "print(json.dumps({'job': j.pk, 'system': s.slug}))"
    )
    picked = json.loads(sh(PY, "manage.py", "shell", "-c", code, env=env).strip().splitlines()[-1])
    return {"token": token, **picked}


class Tally:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.statuses: Counter = Counter()
        self.gate_latencies: list[float] = []
        self.booked: list[int] = []
        self.failures: Counter = Counter()


def request(conn, method, path, token, body=None):
    headers = {"Authorization": f"Bearer {token}"}
    if body is not None:
        headers["Content-Type"] = "application/json"
        body = json.dumps(body)
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    return response.status, response.read()


def gate_client(stop: threading.Event, tally: Tally, target: dict) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    while not stop.is_set():
        started = time.perf_counter()
        try:
            status, _ = request(conn, "GET", f"/api/v1/jobs/{target['job']}/gate", target["token"])
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
            status = "connection error"
        with tally.lock:
            tally.statuses[f"gate {status}"] += 1
            tally.gate_latencies.append(time.perf_counter() - started)


def writer(stop: threading.Event, tally: Tally, target: dict) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    n = 0
    while not stop.is_set():
        n += 1
        day = 1 + n % 27
        body = {
            "title": f"soak booking {n}",
            "team": "team-0",
            "systems": [target["system"]],
            "start": f"2031-03-{day:02d}T{n % 20:02d}:00:00Z",
            "end": f"2031-03-{day:02d}T{n % 20 + 1:02d}:00:00Z",
            "impact": "degraded",
        }
        try:
            status, raw = request(conn, "POST", "/api/v1/jobs", target["token"], body)
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
            status, raw = "connection error", b""
        with tally.lock:
            tally.statuses[f"book {status}"] += 1
            if status == 201:
                tally.booked.append(json.loads(raw)["id"])


def table_lock(started: float) -> None:
    time.sleep(max(0.0, LOCK_AT - (time.monotonic() - started)))
    with psycopg.connect(f"{PG}/{DATABASE}") as conn, conn.transaction():
        conn.execute("LOCK TABLE scheduling_maintenancejob IN ACCESS EXCLUSIVE MODE")
        print(
            f"  t={time.monotonic() - started:.0f}s: jobs table locked for {LOCK_FOR:.0f}s",
            flush=True,
        )
        time.sleep(LOCK_FOR)
    print(f"  t={time.monotonic() - started:.0f}s: lock released", flush=True)


def main() -> None:
    print("Preparing the soak database", flush=True)
    target = setup()
    tally, stop = Tally(), threading.Event()
    with Server(DATABASE, PORT, os.cpu_count() or 2):
        started = time.monotonic()
        threads = [
            threading.Thread(target=gate_client, args=(stop, tally, target))
            for _ in range(GATE_CLIENTS)
        ]
        threads.append(threading.Thread(target=writer, args=(stop, tally, target)))
        locker = threading.Thread(target=table_lock, args=(started,))
        for thread in [*threads, locker]:
            thread.start()
        print(
            f"Soak: {GATE_CLIENTS} gate clients and a booking writer for {DURATION:.0f}s",
            flush=True,
        )
        time.sleep(DURATION)
        stop.set()
        for thread in [*threads, locker]:
            thread.join(timeout=60)
    with psycopg.connect(f"{PG}/{DATABASE}") as conn:
        rows = conn.execute(
            "SELECT id, title FROM scheduling_maintenancejob WHERE title LIKE 'soak booking %'"
        ).fetchall()
    stored_ids = sorted(r[0] for r in rows)
    titles = Counter(r[1] for r in rows)
    duplicated = sorted(t for t, c in titles.items() if c > 1)
    lost = sorted(set(tally.booked) - set(stored_ids))
    unanswered = sorted(set(stored_ids) - set(tally.booked))
    errors = {k: v for k, v in tally.statuses.items() if k.endswith("500")}
    other_failures = {
        k: v for k, v in tally.statuses.items() if not k.endswith(("200", "201", "423", "503"))
    }
    latencies = sorted(tally.gate_latencies)
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    print()
    for key, value in sorted(tally.statuses.items()):
        print(f"  {key:<22} {value:>7}")
    print(f"  gate p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {latencies[-1] * 1000:.0f} ms")
    print(f"  bookings answered 201: {len(tally.booked)}, rows in the database: {len(stored_ids)}")
    print(
        f"  lost: {len(lost)}, duplicated: {len(duplicated)}, "
        f"stored but unanswered: {len(unanswered)}"
    )
    results = {
        "statuses": dict(tally.statuses),
        "gate_p50_ms": round(p50, 1),
        "gate_p99_ms": round(p99, 1),
        "bookings_201": len(tally.booked),
        "bookings_stored": len(stored_ids),
        "lost": len(lost),
        "duplicated": len(duplicated),
        "stored_unanswered": len(unanswered),
    }
    Path(__file__).with_name("soak-results.json").write_text(json.dumps(results, indent=2) + "\n")
    ok = not errors and not other_failures and not lost and not duplicated
    print("PASS" if ok else f"FAIL: 500s {errors}, other {other_failures}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()

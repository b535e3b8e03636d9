"""`make soak`: a failing database under load, bounded to about two minutes.

CI clients poll the gate while a writer books jobs through the API, against
gunicorn on PostgreSQL with DB_LOCK_TIMEOUT_MS=1000. In turn, from outside:

1. another session holds ACCESS EXCLUSIVE on the jobs table (a migration);
2. another session holds ACCESS EXCLUSIVE on the API-token table;
3. every connection to the database is terminated (a failover);
4. a gunicorn worker is killed with SIGKILL.

Pass: no 500; every answer within lock timeout + 0.5 s (the gate too,
whatever the lock); after each fault, a gate and a booking succeed again
within 3 s; and the bookings in the database are exactly those answered 201
(none lost, none duplicated, none stored without a 201 except, at most, one
per booking whose connection the SIGKILL cut). Loopback only.
"""

import http.client
import json
import os
import signal
import socket
import statistics
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import PG, PY, Server, sh

DATABASE = os.environ.get("SOAK_DATABASE", "clearway_soak")
LOCK_TIMEOUT_MS = int(os.environ.get("DB_LOCK_TIMEOUT_MS", "1000"))
os.environ["DB_LOCK_TIMEOUT_MS"] = str(LOCK_TIMEOUT_MS)  # read by the server's settings
LIMIT = LOCK_TIMEOUT_MS / 1000 + 0.5
RECOVERY = 3.0
GATE_CLIENTS = int(os.environ.get("SOAK_CLIENTS", 4))
WORKERS = int(os.environ.get("SOAK_WORKERS", 4))
HOLD = 5.0
# (name, starts at, lasts): the faults, one after the other.
FAULTS = [
    ("jobs table locked", 8.0, HOLD),
    ("token table locked", 20.0, HOLD),
    ("every connection terminated", 32.0, 0.0),
    ("a worker SIGKILLed", 40.0, 0.0),
]
DURATION = float(os.environ.get("SOAK_SECONDS", 52))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


PORT = free_port()


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


@dataclass
class Sample:
    kind: str  # "gate" or "book"
    status: int | str
    started: float
    took: float


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    samples: list[Sample] = field(default_factory=list)
    booked: list[int] = field(default_factory=list)
    cut_bookings: int = 0

    def add(self, sample: Sample) -> None:
        with self.lock:
            self.samples.append(sample)


def request(method, path, token, body=None):
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    headers = {"Authorization": f"Bearer {token}", "Connection": "close"}
    if body is not None:
        headers["Content-Type"] = "application/json"
        body = json.dumps(body)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def gate_client(stop: threading.Event, tally: Tally, target: dict, t0: float) -> None:
    while not stop.is_set():
        started = time.monotonic()
        try:
            status, _ = request("GET", f"/api/v1/jobs/{target['job']}/gate", target["token"])
        except (OSError, http.client.HTTPException):
            status = "connection error"
        tally.add(Sample("gate", status, started - t0, time.monotonic() - started))


def writer(stop: threading.Event, tally: Tally, target: dict, t0: float) -> None:
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
        started = time.monotonic()
        try:
            status, raw = request("POST", "/api/v1/jobs", target["token"], body)
        except (OSError, http.client.HTTPException):
            status, raw = "connection error", b""
        tally.add(Sample("book", status, started - t0, time.monotonic() - started))
        with tally.lock:
            if status == 201:
                tally.booked.append(json.loads(raw)["id"])
            elif status == "connection error":
                tally.cut_bookings += 1


def hold_lock(table: str) -> None:
    with psycopg.connect(f"{PG}/{DATABASE}") as conn, conn.transaction():
        conn.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        time.sleep(HOLD)


def terminate_all() -> None:
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            [DATABASE],
        )


def kill_a_worker(server: Server) -> None:
    workers = sh("pgrep", "-P", str(server.proc.pid), check=False).split()
    if workers:
        os.kill(int(workers[0]), signal.SIGKILL)


def faults(server: Server, t0: float, ended: dict) -> None:
    actions = {
        "jobs table locked": lambda: hold_lock("scheduling_maintenancejob"),
        "token table locked": lambda: hold_lock("scheduling_apitoken"),
        "every connection terminated": terminate_all,
        "a worker SIGKILLed": lambda: kill_a_worker(server),
    }
    for name, at, _ in FAULTS:
        time.sleep(max(0.0, at - (time.monotonic() - t0)))
        print(f"  t={time.monotonic() - t0:4.1f}s  {name}", flush=True)
        actions[name]()
        ended[name] = time.monotonic() - t0


def recovery(samples: list[Sample], kind: str, since: float) -> float | None:
    """Seconds from `since` until a request of `kind` started after it succeeded."""
    ok = {"gate": (200, 423), "book": (201,)}[kind]
    good = [
        s.started + s.took
        for s in samples
        if s.kind == kind and s.started >= since and s.status in ok
    ]
    return min(good) - since if good else None


def main() -> None:
    print(f"Preparing the soak database {DATABASE}", flush=True)
    target = setup()
    tally, stop, ended = Tally(), threading.Event(), {}
    with Server(DATABASE, PORT, WORKERS) as server:
        t0 = time.monotonic()
        threads = [
            threading.Thread(target=gate_client, args=(stop, tally, target, t0))
            for _ in range(GATE_CLIENTS)
        ]
        threads.append(threading.Thread(target=writer, args=(stop, tally, target, t0)))
        injector = threading.Thread(target=faults, args=(server, t0, ended))
        print(
            f"Soak: {GATE_CLIENTS} gate clients and a booking writer on {WORKERS} gunicorn "
            f"workers for {DURATION:.0f}s, DB_LOCK_TIMEOUT_MS={LOCK_TIMEOUT_MS}",
            flush=True,
        )
        for thread in [*threads, injector]:
            thread.start()
        time.sleep(DURATION)
        stop.set()
        for thread in [*threads, injector]:
            thread.join(timeout=60)
    with psycopg.connect(f"{PG}/{DATABASE}") as conn:
        rows = conn.execute(
            "SELECT id, title FROM scheduling_maintenancejob WHERE title LIKE 'soak booking %'"
        ).fetchall()
    report(tally, rows, ended)


def report(tally: Tally, rows: list, ended: dict) -> None:
    samples = tally.samples
    stored_ids = sorted(r[0] for r in rows)
    titles = Counter(r[1] for r in rows)
    duplicated = sorted(t for t, c in titles.items() if c > 1)
    lost = sorted(set(tally.booked) - set(stored_ids))
    unanswered = sorted(set(stored_ids) - set(tally.booked))
    statuses = Counter(f"{s.kind} {s.status}" for s in samples)
    errors = {k: v for k, v in statuses.items() if k.endswith("500")}
    unexpected = {
        k: v
        for k, v in statuses.items()
        if not k.endswith(("200", "201", "423", "503", "connection error"))
    }
    slow = [s for s in samples if s.took > LIMIT and s.status != "connection error"]
    recoveries = {}
    for name, _, _ in FAULTS:
        if name in ended:
            recoveries[name] = {
                kind: recovery(samples, kind, ended[name]) for kind in ("gate", "book")
            }
    gate = sorted(s.took for s in samples if s.kind == "gate")
    book = sorted(s.took for s in samples if s.kind == "book")

    def pct(values, q):
        return values[max(0, int(len(values) * q) - 1)] * 1000 if values else 0.0

    print()
    for key, value in sorted(statuses.items()):
        print(f"  {key:<24} {value:>7}")
    print(
        f"  gate p50 {statistics.median(gate) * 1000:.0f} ms, p99 {pct(gate, 0.99):.0f} ms, "
        f"max {gate[-1] * 1000:.0f} ms"
    )
    print(f"  booking p50 {statistics.median(book) * 1000:.0f} ms, max {book[-1] * 1000:.0f} ms")
    print(
        f"  answers slower than {LIMIT:.1f} s: {len(slow)} (load average {os.getloadavg()[0]:.1f})"
    )
    for sample in slow[:20]:
        during = next(
            (name for name, at, lasts in FAULTS if at <= sample.started <= at + lasts + 3), "-"
        )
        print(
            f"    {sample.kind} {sample.status} at t={sample.started:.1f}s took "
            f"{sample.took:.2f}s (during or after: {during})"
        )
    for name, kinds in recoveries.items():
        text = ", ".join(
            f"{kind} {'never' if v is None else f'{v:.2f} s'}" for kind, v in kinds.items()
        )
        print(f"  recovery after '{name}': {text}")
    print(f"  bookings answered 201: {len(tally.booked)}, rows in the database: {len(stored_ids)}")
    print(
        f"  lost: {len(lost)}, duplicated: {len(duplicated)}, stored but unanswered: "
        f"{len(unanswered)} (bookings cut by the SIGKILL: {tally.cut_bookings})"
    )
    recovered = all(
        v is not None and v <= RECOVERY for kinds in recoveries.values() for v in kinds.values()
    )
    results = {
        "lock_timeout_ms": LOCK_TIMEOUT_MS,
        "gate_clients": GATE_CLIENTS,
        "workers": WORKERS,
        "statuses": dict(statuses),
        "gate_p50_ms": round(statistics.median(gate) * 1000, 1),
        "gate_p99_ms": round(pct(gate, 0.99), 1),
        "gate_max_ms": round(gate[-1] * 1000, 1),
        "booking_max_ms": round(book[-1] * 1000, 1),
        "slower_than_limit": len(slow),
        "load_average": round(os.getloadavg()[0], 1),
        "recovery_s": {
            name: {k: None if v is None else round(v, 2) for k, v in kinds.items()}
            for name, kinds in recoveries.items()
        },
        "bookings_201": len(tally.booked),
        "bookings_stored": len(stored_ids),
        "lost": len(lost),
        "duplicated": len(duplicated),
        "stored_unanswered": len(unanswered),
        "bookings_cut": tally.cut_bookings,
    }
    Path(__file__).with_name("soak-results.json").write_text(json.dumps(results, indent=2) + "\n")
    ok = (
        not errors
        and not unexpected
        and not slow
        and recovered
        and not lost
        and not duplicated
        and len(unanswered) <= tally.cut_bookings
    )
    print(
        "PASS"
        if ok
        else f"FAIL: 500s {errors}, other {unexpected}, slow {len(slow)}, recovered {recovered}"
    )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()

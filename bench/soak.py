"""Soak (`make soak`): minutes of mixed commands and reads against two API workers and
the read-model runner on PostgreSQL, while every one of their database sessions is killed once
a minute; then the log must verify, the read models must equal a rebuild, and no process may
have grown.

What it does, in its own fresh schema on the local server (``PLATFORMS_BENCH_POSTGRES_URL``,
default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``), which it drops at the end:

* loads the demo programme (platforms in an open publicity window) and adds a bureau user;
* starts ``platforms serve --workers 2`` and ``platforms projections run`` on 127.0.0.1, each
  with its own ``PGAPPNAME``, so that ``pg_terminate_backend`` reaches their sessions and no
  other (other people's tests share the server);
* drives a bounded loopback load (``--threads`` clients, ``--rate`` requests/s in all): public
  objections, the bureau's paper objections (an authenticated command), and authenticated
  reads of the publicity list, the funding ledger and one platform;
* half-way through every minute terminates the servers' and the runner's backends;
* records per minute the requests, the answers by status (connection refused and other
  transport errors apart), p50/p99, each process's resident memory and the projection lag;
* at the end: waits for the runner to catch up, runs ``platforms audit verify`` and
  ``platforms audit reconcile``, stops the processes with SIGTERM and prints the table.

It exits 1 if any answer was a 5xx or a transport error other than a refused connection,
verify or reconcile failed, the runner did not catch up, a process died or did not stop on
SIGTERM, a traceback appeared in the server's or the runner's output (an API worker that died
and was replaced answers nothing wrong, but must not pass), or a process's RSS grew between
the end of minute 2 (minute 1 on a shorter run) and the end by more than ``--rss-margin``
(default 10 %, see ``RSS_MARGIN``).

    python bench/soak.py [--minutes 10] [--threads 4] [--rate 20] [--objections 0.4] [--rss-margin 0.10]
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from bench_api import free_port  # noqa: E402

PYTHON = sys.executable
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
# Why 10 %: after the first minute or two every cache in a process is full (aggregates,
# rendered bodies, verified tokens, connection pools), and each is bounded, so what remains is
# allocator noise and the pools' reconnections, a few MB at most. A leak of a couple of KB per
# request, at the default rate over eight minutes, would pass 10 % of a ~100 MB worker.
RSS_MARGIN = 0.10
TRANSPORT_ERRORS = ("refused", "timeout", "transport")


# ---------------------------------------------------------------------------- the schema
def _connect(base_url: str, application_name: str):  # noqa: ANN202
    import psycopg

    from aggregates.store import StoreConfig

    env = StoreConfig(base_url).eventsourcing_env()
    return psycopg.connect(host=env["POSTGRES_HOST"], port=int(env["POSTGRES_PORT"]), user=env["POSTGRES_USER"],
                           dbname=env["POSTGRES_DBNAME"], password=env["POSTGRES_PASSWORD"] or None,
                           autocommit=True, application_name=application_name)


def create_schema(base_url: str) -> str:
    schema = f"soak_{uuid.uuid4().hex[:12]}"
    with _connect(base_url, "soak-driver") as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return schema


def drop_schema(base_url: str, schema: str) -> None:
    with _connect(base_url, "soak-driver") as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def terminate_backends(conn, names: list[str]) -> int:  # noqa: ANN001
    """Kill the sessions of the soak's own processes only: named by their PGAPPNAME, in this
    database, never the connection asking."""
    rows = conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = ANY(%s) "
                        "AND datname = current_database() AND pid <> pg_backend_pid()", (names,)).fetchall()
    return sum(1 for (killed,) in rows if killed)


# ---------------------------------------------------------------------------- processes
def descendants(pid: int) -> list[int]:
    """``pid`` and its children's pids, recursively (uvicorn's supervisor and its workers)."""
    found, queue = [], [pid]
    while queue:
        p = queue.pop()
        found.append(p)
        for task in Path(f"/proc/{p}/task").glob("*"):
            try:
                queue += [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                pass
    return found


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def process_rss(server: subprocess.Popen, runner: subprocess.Popen) -> dict[str, float | None]:
    """RSS by role; the API workers are named by pid, so that a worker replaced by uvicorn shows
    as a new column rather than as a drop in memory."""
    out: dict[str, float | None] = {"api-main": rss_mb(server.pid)}
    for pid in sorted(descendants(server.pid))[1:]:
        out[f"api-{pid}"] = rss_mb(pid)
    out["runner"] = rss_mb(runner.pid)
    return out


def cli(args: list[str], env: dict, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([PYTHON, "-m", "api.cli", *args], cwd=cwd, env=env, input=stdin, capture_output=True,
                          text=True)


# ---------------------------------------------------------------------------- the load
@dataclass
class Minute:
    statuses: Counter = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    by_kind: Counter = field(default_factory=Counter)
    terminated: int = 0
    lag: int | None = None
    rss: dict[str, float | None] = field(default_factory=dict)

    def pct(self, p: float) -> float:
        xs = sorted(self.latencies)
        return xs[min(len(xs) - 1, int(p * len(xs)))] * 1000 if xs else float("nan")


class Load:
    """``threads`` clients sharing ``rate`` requests/s; each answer is filed under the minute it
    was sent in."""

    def __init__(self, root: str, token: str, platforms: list[str], threads: int, rate: float,
                 objections: float = 0.4) -> None:
        self.root, self.token, self.platforms = root, token, platforms
        self.objections = objections  # the share of requests that are objections (¾ public, ¼ on paper)
        self.threads, self.interval = threads, threads / rate
        self.minutes: list[Minute] = [Minute()]
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.started = time.monotonic()
        self._workers: list[threading.Thread] = []

    def current(self) -> Minute:
        return self.minutes[-1]

    def request(self, n: int, rnd: random.Random):  # noqa: ANN201
        """One request of the mix: (kind, method, path, headers, json)."""
        auth = {"Authorization": f"Bearer {self.token}"}
        pid = rnd.choice(self.platforms)
        # Objections take the first ``objections`` of the roll; reads share the rest as 2:2:1.
        share = self.objections
        roll = rnd.random()
        reads = (roll - share) / (1 - share) if roll >= share else -1.0
        body = {"objector_name": f"浸泡测试{n % 1000:03d}", "contact": f"soak{n}@example.com",
                "content": f"浸泡测试异议第 {n} 号：该平台的申报材料与实际情况不符，请核实。"}
        if roll < share * 0.75:
            return "objection", "POST", f"/platforms/{pid}/objections", {}, body
        if roll < share:
            today = (datetime.now(UTC) + timedelta(hours=8)).date().isoformat()
            return "paper-objection", "POST", f"/platforms/{pid}/objections", auth, body | {"business_date": today}
        if reads < 0.4:
            return "publicity", "GET", "/publicity-list", auth, None
        if reads < 0.8:
            return "ledger", "GET", "/funding-ledger", auth, None
        return "platform", "GET", f"/platforms/{pid}", auth, None

    def worker(self, k: int) -> None:
        import httpx

        rnd = random.Random(k)
        n = k
        due = time.monotonic()
        with httpx.Client(base_url=self.root, timeout=30) as client:
            while not self.stop.is_set():
                n += self.threads
                kind, method, path, headers, body = self.request(n, rnd)
                minute = self.current()
                began = time.perf_counter()
                try:
                    status: int | str = client.request(method, path, headers=headers, json=body).status_code
                except httpx.ConnectError:
                    status = "refused"
                except httpx.TimeoutException:
                    status = "timeout"
                except httpx.TransportError:
                    status = "transport"
                elapsed = time.perf_counter() - began
                with self.lock:
                    minute.statuses[status] += 1
                    minute.by_kind[kind] += 1
                    if isinstance(status, int):
                        minute.latencies.append(elapsed)
                due += self.interval
                self.stop.wait(max(0.0, due - time.monotonic()))

    def start(self) -> None:
        self._workers = [threading.Thread(target=self.worker, args=(k,), daemon=True) for k in range(self.threads)]
        for t in self._workers:
            t.start()

    def next_minute(self) -> None:
        with self.lock:
            self.minutes.append(Minute())

    def finish(self) -> None:
        self.stop.set()
        for t in self._workers:
            t.join(timeout=60)


def readiness(root: str) -> tuple[int | None, int | None]:
    """(status, max projection lag) from /readyz, or (None, None) if it did not answer."""
    import httpx

    try:
        r = httpx.get(f"{root}/readyz", timeout=10)
        return r.status_code, r.json().get("projections", {}).get("max_lag")
    except (httpx.HTTPError, ValueError):
        return None, None


# ---------------------------------------------------------------------------- main
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, default=10)
    parser.add_argument("--threads", type=int, default=4, help="concurrent clients")
    parser.add_argument("--rate", type=float, default=20.0, help="requests per second, all clients together")
    parser.add_argument("--objections", type=float, default=0.4,
                        help="share of the requests that are objections (0: reads only, to tell the memory "
                             "the objections add from what serving costs)")
    parser.add_argument("--rss-margin", type=float, default=RSS_MARGIN,
                        help="largest growth of a process's RSS allowed after minute 2, as a fraction")
    args = parser.parse_args()
    if args.minutes < 1:
        parser.error("--minutes must be at least 1")
    if not 0 <= args.objections < 1:
        parser.error("--objections must be at least 0 and below 1")

    import httpx

    base = os.environ.get("PLATFORMS_BENCH_POSTGRES_URL") or DEFAULT_URL
    schema = create_schema(base)
    work = Path(tempfile.mkdtemp(prefix="soak-"))
    names = {"api": f"{schema}-api", "runner": f"{schema}-runner", "cli": f"{schema}-cli"}
    env = {**os.environ, "PLATFORMS_DATABASE_URL": f"{base}?schema={schema}", "PLATFORMS_MODE": "development",
           "PLATFORMS_VAR_DIR": str(work / "var"), "PLATFORMS_RUN_PROJECTIONS": "0",
           "PLATFORMS_OBJECTION_RATE_LIMIT": "0",  # every objection comes from 127.0.0.1
           "PGAPPNAME": names["cli"],
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")]))}
    env.pop("PLATFORMS_POLICY_DIR", None)
    print(f"schema {schema}, files in {work}", flush=True)
    server = runner = None
    failures: list[str] = []
    try:
        loaded = cli(["demo"], env, work)
        if loaded.returncode != 0:
            raise RuntimeError(f"platforms demo failed: {loaded.stderr[-2000:]}")
        password = f"soak-{uuid.uuid4().hex}"
        added = cli(["users", "add", "soak-bureau", "--role", "bureau", "--password-stdin"], env, work, password + "\n")
        if added.returncode != 0:
            raise RuntimeError(f"platforms users add failed: {added.stderr[-2000:]}")

        port = free_port()
        root = f"http://127.0.0.1:{port}/api/v1"
        runner = subprocess.Popen([PYTHON, "-m", "api.cli", "projections", "run"], cwd=work,
                                  env=env | {"PGAPPNAME": names["runner"]},
                                  stdout=open(work / "runner.log", "w"), stderr=subprocess.STDOUT)
        server = subprocess.Popen([PYTHON, "-m", "api.cli", "serve", "--port", str(port), "--workers", "2",
                                   "--log-level", "warning"], cwd=work, env=env | {"PGAPPNAME": names["api"]},
                                  stdout=open(work / "server.log", "w"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while readiness(root)[0] != 200:
            if time.monotonic() > deadline or server.poll() is not None or runner.poll() is not None:
                raise RuntimeError(f"the server did not become ready; see {work}/server.log and runner.log")
            time.sleep(0.5)
        token = httpx.post(f"{root}/auth/token", data={"username": "soak-bureau", "password": password}).json()[
            "access_token"]
        batches = httpx.get(f"{root}/publicity-list", params={"open": "true"}).json()["items"]
        platforms = [p["id"] for b in batches for p in b["platforms"]]
        if not platforms:
            raise RuntimeError("the demo left no platform in an open publicity window")
        print(f"{len(platforms)} platforms in publicity; {args.minutes} min at {args.rate:g} req/s, "
              f"{args.threads} clients; backends of {names['api']} and {names['runner']} killed each minute",
              flush=True)

        load = Load(root, token, platforms, args.threads, args.rate, args.objections)
        killer = _connect(base, "soak-driver")
        load.start()
        for m in range(args.minutes):
            began = time.monotonic()
            time.sleep(30)
            load.current().terminated = terminate_backends(killer, [names["api"], names["runner"]])
            time.sleep(max(0.0, 60 - (time.monotonic() - began)))
            minute = load.current()
            minute.rss = process_rss(server, runner)
            minute.lag = readiness(root)[1]
            if m < args.minutes - 1:
                load.next_minute()
            print(f"  minute {m + 1}: {sum(minute.statuses.values())} requests, statuses {dict(minute.statuses)}, "
                  f"lag {minute.lag}, killed {minute.terminated}", flush=True)
        load.finish()
        killer.close()

        deadline, lag = time.monotonic() + 120, None
        while time.monotonic() < deadline:
            status, lag = readiness(root)
            if status == 200 and lag == 0:
                break
            time.sleep(1)
        if lag != 0:
            failures.append(f"the runner did not catch up within 120 s (lag {lag})")
        checks = {}
        for what in ("verify", "reconcile"):
            done = cli(["audit", what], env, work)
            checks[what] = done.returncode
            if done.returncode != 0:
                failures.append(f"platforms audit {what} exited {done.returncode}: {done.stderr[-1000:]}"
                                f"{done.stdout[-1000:]}")
        for name, proc in (("server", server), ("runner", runner)):
            if proc.poll() is not None:
                failures.append(f"the {name} died during the soak (exit {proc.returncode})")
        report(load.minutes, checks, args, failures)
    finally:
        stopped = {}
        for name, proc in (("server", server), ("runner", runner)):
            if proc is None or proc.poll() is not None:
                continue
            proc.send_signal(signal.SIGTERM)
            try:
                stopped[name] = proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                failures.append(f"the {name} did not stop within 30 s of SIGTERM")
        if stopped:
            print(f"stopped with SIGTERM: {stopped}")
        drop_schema(base, schema)
        print(f"schema {schema} dropped")
        failures.extend(crashes(work))
    for f in failures:
        print(f"FAIL: {f}")
    print("soak OK" if not failures else f"soak FAILED ({len(failures)} check(s))")
    return 1 if failures else 0


def crashes(work: Path) -> list[str]:
    """A traceback in the server's or the runner's output: a process (an API worker that uvicorn
    then replaced, a thread) failed, even if the answers never showed it."""
    found = []
    for name in ("server.log", "runner.log"):
        lines = (work / name).read_text(errors="replace").splitlines() if (work / name).exists() else []
        for i, text in enumerate(lines):
            if text.startswith("Traceback (most recent call last)"):
                cause = next((t for t in lines[i + 1:] if t and not t.startswith((" ", "\t"))), "?")
                found.append(f"{name}, line {i + 1}: {cause[:200]}")
    return found


def report(minutes: list[Minute], checks: dict[str, int], args: argparse.Namespace, failures: list[str]) -> None:
    """Print the table and file every failed check in ``failures``."""
    procs = list(dict.fromkeys(k for m in minutes for k in m.rss))
    print(f"\n{'min':>3} {'reqs':>6} {'2xx':>6} {'4xx':>5} {'5xx':>4} {'refused':>7} {'other':>5} {'p50 ms':>7} "
          f"{'p99 ms':>7} {'lag':>4} {'killed':>6}  " + " ".join(f"{p:>11}" for p in procs) + "  (RSS MB)")
    for i, m in enumerate(minutes, 1):
        ok = sum(n for s, n in m.statuses.items() if isinstance(s, int) and s < 400)
        c4 = sum(n for s, n in m.statuses.items() if isinstance(s, int) and 400 <= s < 500)
        c5 = sum(n for s, n in m.statuses.items() if isinstance(s, int) and s >= 500)
        other = m.statuses["timeout"] + m.statuses["transport"]
        rss = " ".join(f"{m.rss.get(p) or float('nan'):11.1f}" for p in procs)
        print(f"{i:3d} {sum(m.statuses.values()):6d} {ok:6d} {c4:5d} {c5:4d} {m.statuses['refused']:7d} {other:5d} "
              f"{m.pct(0.5):7.1f} {m.pct(0.99):7.1f} {m.lag if m.lag is not None else '?':>4} {m.terminated:6d}  {rss}")
    total = sum((m.statuses for m in minutes), Counter())
    kinds = sum((m.by_kind for m in minutes), Counter())
    print(f"mix: {dict(kinds)}; statuses: {dict(total)}")
    print(f"audit verify exit {checks.get('verify')}, audit reconcile exit {checks.get('reconcile')}")
    fives = sum(n for s, n in total.items() if isinstance(s, int) and s >= 500)
    if fives:
        failures.append(f"{fives} answer(s) were 5xx")
    if total["timeout"] + total["transport"]:
        failures.append(f"{total['timeout'] + total['transport']} request(s) failed in transport (timeout, reset)")
    fours = {s: n for s, n in total.items() if isinstance(s, int) and 400 <= s < 500}
    if fours:
        failures.append(f"4xx answers to a mix of valid requests: {fours}")
    base = minutes[min(2, len(minutes) - 1) - 1] if len(minutes) > 1 else minutes[0]
    end = minutes[-1]
    for p in procs:
        before, after = base.rss.get(p), end.rss.get(p)
        if before is None or after is None:
            failures.append(f"process {p} was not there from the baseline minute to the end")
            continue
        growth = (after - before) / before
        print(f"RSS {p}: {before:.1f} → {after:.1f} MB ({growth:+.1%}, margin {args.rss_margin:.0%})")
        if growth > args.rss_margin:
            failures.append(f"RSS of {p} grew {growth:+.1%} (more than {args.rss_margin:.0%})")


if __name__ == "__main__":
    sys.exit(main())

"""PostgreSQL with several API workers: `platforms serve --workers N` (N = 1, 2, 4) and one
`platforms projections run` under a mixed load of commands and reads, each N beside a floor
measured in the same run, as whole processes.

For each N, in a fresh schema of the local server (``PLATFORMS_BENCH_POSTGRES_URL``, default
``postgresql+psycopg://postgres@127.0.0.1:5432/test``), dropped at the end:

* seeds the demo programme and ``--platforms`` generated applications, about half of them (at
  most 60) in a live publicity window (``bench_api.generate_load``), then ``platforms migrate``;
* starts the servers in production mode (a generated ``PLATFORMS_SECRET_KEY``, request logs at
  INFO into a file, the objection rate limit off: the load is one client address), each with its
  own ``PGAPPNAME``;
* drives, at the same time, two wrk processes (``apt-get install wrk``): commands, public
  objections spread over the platforms in publicity; reads, signed in as the bureau, the
  publicity list, one platform and the subfield registry in turn; and a probe posting 10
  objections a second whose returned log ``position`` it watches the read models reach (the
  projection lag, to within the 5 ms it polls at), while ``/metrics`` gives the lag in events;
* counts the PostgreSQL sessions of each process and splits the CPU time of the window between
  the API processes, the runner, PostgreSQL, the load generator and the rest of the machine;
* then measures the floor with the same load and N workers: a bare FastAPI app under uvicorn
  that answers each read path with the same JSON the registry answered (parsed once, serialized
  per request as FastAPI does) and each command with one INSERT of its body, committed, through
  a psycopg pool.

All of it shares the machine's cores: compare a figure with its floor, not with another run's.
``--profile`` samples one API worker (N = 1) with py-spy (``pip install py-spy``) during the
measured window and prints where its interpreter time went; that N's figures then carry the
profiler's cost. Exits 1 if an answer was not 2xx, a read model did not reach a probe's
position, or a traceback appeared in a server's log.

    python bench/bench_postgres_workers.py [--workers 1 2 4] [--seconds 20] [--warmup 5]
        [--platforms 120] [--commands 16] [--reads 16] [--quick] [--profile]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(HERE))

from bench_api import WRK_SCRIPT, _lua, free_port, generate_load, wait_ready  # noqa: E402
from soak import descendants  # noqa: E402

PYTHON = sys.executable
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PROBE_RATE = 10.0  # probe objections a second, on top of wrk's
POLL_SECONDS = 0.005  # how often the read models' positions are read for the probe
TICKS = os.sysconf("SC_CLK_TCK")
# Sessions an API worker held at the peak of this load with the default pools (the events, the
# snapshots and the read models, PLATFORMS_POSTGRES_POOL_SIZE 10): 26 for one worker, 43 for two,
# 74 for four, measured 2026-11-30; the runner held 16, and this script holds two. A process holds
# at most 6 x pool size + 2 (api/registry_wiring.pool_options), so smaller pools need fewer.
SESSIONS_PER_WORKER, SESSIONS_RUNNER, SESSIONS_SCRIPT = 19, 16, 2
OBJECTION = {"objector_name": "压测", "contact": "bench@example.com", "content": "benchmark objection: 负载测试异议"}


# ---------------------------------------------------------------------------- PostgreSQL
def connect(base_url: str, application_name: str):  # noqa: ANN201
    import psycopg

    from aggregates.store import StoreConfig

    params = StoreConfig(base_url).postgres_params()
    return psycopg.connect(host=params["host"], port=params["port"], user=params["user"], dbname=params["dbname"],
                           password=params["password"] or None, autocommit=True, application_name=application_name)


def libpq_dsn(base_url: str, schema: str) -> str:
    from psycopg.conninfo import make_conninfo

    from aggregates.store import StoreConfig

    p = StoreConfig(base_url).postgres_params()
    return make_conninfo(host=p["host"], port=p["port"], user=p["user"], dbname=p["dbname"],
                         password=p["password"] or None, options=f"-c search_path={schema}")


def sessions(conn, names: list[str]) -> Counter:  # noqa: ANN001
    rows = conn.execute("SELECT application_name, count(*) FROM pg_stat_activity WHERE application_name = ANY(%s) "
                        "GROUP BY 1", (names,)).fetchall()
    return Counter(dict(rows))


# ---------------------------------------------------------------------------- CPU accounting
def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def postgres_pids() -> list[int]:
    found = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if (d / "comm").read_text().strip() == "postgres":
                    found.append(int(d.name))
            except OSError:
                pass
    return found


def machine_busy() -> float:
    """CPU seconds the whole machine spent not idle (all cores), from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / TICKS


@dataclass
class CpuSnapshot:
    at: float
    per_pid: dict[int, float]
    children: float
    own: float
    machine: float

    postgres: list[int]

    @classmethod
    def take(cls, pids: list[int]) -> CpuSnapshot:
        """The CPU so far of ``pids`` and of every PostgreSQL process (sessions come and go)."""
        kids, me = resource.getrusage(resource.RUSAGE_CHILDREN), resource.getrusage(resource.RUSAGE_SELF)
        pg = postgres_pids()
        return cls(time.monotonic(), {p: cpu_seconds(p) for p in pids + pg}, kids.ru_utime + kids.ru_stime,
                   me.ru_utime + me.ru_stime, machine_busy(), pg)


def cpu_split(before: CpuSnapshot, after: CpuSnapshot, groups: dict[str, list[int]]) -> dict[str, float]:
    """Cores used (CPU seconds per second of the window) by each group of processes, the load
    generator (wrk, waited for inside the window, and this process's probe threads), and the
    rest of the machine (other people's work)."""
    wall = after.at - before.at

    def used(pid: int) -> float:  # a process that ended inside the window took its figure with it
        return after.per_pid.get(pid, 0.0) - before.per_pid.get(pid, 0.0) if after.per_pid.get(pid) else 0.0

    groups = groups | {"postgres": after.postgres}
    out = {name: sum(used(p) for p in pids) / wall for name, pids in groups.items()}
    out["load generator"] = (after.children - before.children + after.own - before.own) / wall
    out["machine"] = (after.machine - before.machine) / wall
    out["others"] = out["machine"] - sum(v for k, v in out.items() if k not in ("machine", "postgres (ours)"))
    return out


# ---------------------------------------------------------------------------- the floor
def floor_app():  # noqa: ANN201
    """The floor's app (one per uvicorn worker): each read path answers the registry's body for
    it, parsed once and serialized per request; each command inserts its body, committed."""
    from fastapi import FastAPI
    from psycopg.types.json import Jsonb
    from psycopg_pool import ConnectionPool

    bodies = json.loads(Path(os.environ["PGW_FLOOR_BODIES"]).read_text())
    pool = ConnectionPool(os.environ["PGW_FLOOR_DSN"], min_size=2, max_size=10, open=False)

    @asynccontextmanager
    async def lifespan(_: FastAPI):  # noqa: ANN202
        pool.open(wait=True)
        yield
        pool.close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/api/v1/{path:path}")
    def read(path: str) -> Any:
        return bodies[path]

    @app.post("/api/v1/platforms/{platform_id}/objections")
    def command(platform_id: str, body: dict[str, Any]) -> dict:
        # A sync endpoint, on the thread pool, as the registry's commands are.
        with pool.connection() as conn:  # commits on leaving
            (n,) = conn.execute("INSERT INTO floor_commands (platform_id, body) VALUES (%s, %s) RETURNING id",
                                (platform_id, Jsonb(body))).fetchone()
        return {"position": n}

    return app


def create_floor_table(base_url: str, schema: str) -> None:
    with connect(base_url, "pgworkers-driver") as conn:
        conn.execute(f'CREATE TABLE "{schema}".floor_commands (id bigserial PRIMARY KEY, platform_id text NOT NULL, '
                     "body jsonb NOT NULL)")


def insert_floor(base_url: str, connections: int, seconds: float, locked: bool) -> dict:
    """The bare database under the commands' concurrency: ``connections`` threads, each on its
    own connection, inserting an objection's body and committing, in a loop; with ``locked``
    each transaction first takes the table's EXCLUSIVE lock, as the event store does to keep the
    log's order its commit order, so the commits queue one behind another."""
    from psycopg.types.json import Jsonb

    schema = f"pgworkers_{uuid.uuid4().hex[:10]}"
    conns = []
    with connect(base_url, "pgworkers-driver") as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
        admin.execute(f'CREATE TABLE "{schema}".floor_commands (id bigserial PRIMARY KEY, platform_id text NOT NULL, '
                      "body jsonb NOT NULL)")
        try:
            conns = [connect(base_url, f"{schema}-insert") for _ in range(connections)]
            latencies: list[float] = []
            deadline = time.monotonic() + seconds

            def loop(conn) -> None:  # noqa: ANN001
                conn.autocommit = False
                while time.monotonic() < deadline:
                    began = time.perf_counter()
                    with conn.transaction():
                        if locked:
                            conn.execute(f'LOCK TABLE "{schema}".floor_commands IN EXCLUSIVE MODE')
                        conn.execute(f'INSERT INTO "{schema}".floor_commands (platform_id, body) VALUES (%s, %s)',
                                     ("p", Jsonb(OBJECTION)))
                    latencies.append(time.perf_counter() - began)

            began = time.monotonic()
            threads = [threading.Thread(target=loop, args=(c,)) for c in conns]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            elapsed = time.monotonic() - began
        finally:
            for c in conns:
                c.close()
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
    ms = sorted(x * 1000 for x in latencies)
    return {"rps": len(ms) / elapsed, "p50_ms": pct(ms, .5), "p99_ms": pct(ms, .99)}


# ---------------------------------------------------------------------------- the load
@dataclass
class Probe:
    """Posts ``PROBE_RATE`` objections a second and times how long after each answer every read
    model has applied its position; samples ``/metrics`` and the sessions once a second."""

    root: str
    targets: list[str]
    base_url: str
    schema: str
    names: list[str]
    lags: list[float] = field(default_factory=list)
    pending: list[tuple[int, float]] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    lag_events: list[int] = field(default_factory=list)
    peak_sessions: Counter = field(default_factory=Counter)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    posted: threading.Event = field(default_factory=threading.Event)  # the last probe has its answer
    metrics: bool = True

    def post(self) -> None:
        import httpx

        rnd = random.Random(7)
        due = time.monotonic()
        try:
            with httpx.Client(base_url=self.root, timeout=30) as client:
                while not self.stop.is_set():
                    try:
                        r = client.post(f"/platforms/{rnd.choice(self.targets)}/objections", json=OBJECTION)
                    except httpx.HTTPError as exc:
                        self.statuses[exc.__class__.__name__] += 1
                    else:
                        answered = time.perf_counter()
                        self.statuses[r.status_code] += 1
                        if r.status_code == 200:
                            with self.lock:
                                self.pending.append((int(r.json()["position"]), answered))
                    due += 1 / PROBE_RATE
                    self.stop.wait(max(0.0, due - time.monotonic()))
        finally:
            self.posted.set()

    def watch(self) -> None:
        sql = f'SELECT min(position) FROM "{self.schema}".projection_positions'
        with connect(self.base_url, f"{self.schema}-bench") as conn:
            while not self.posted.is_set() or self.pending:
                (reached,) = conn.execute(sql).fetchone()
                now = time.perf_counter()
                with self.lock:
                    done = [p for p in self.pending if p[0] <= (reached or 0)]
                    self.pending = [p for p in self.pending if p[0] > (reached or 0)]
                    late = self.posted.is_set() and any(now - t > 30 for _, t in self.pending)
                self.lags += [now - t for _, t in done]
                if late:
                    return  # left in pending: reported as not reached
                time.sleep(POLL_SECONDS)

    def sample(self) -> None:
        import httpx

        with connect(self.base_url, f"{self.schema}-bench") as conn:
            while not self.stop.wait(1.0):
                for name, n in sessions(conn, self.names).items():
                    self.peak_sessions[name] = max(self.peak_sessions[name], n)
                if not self.metrics:
                    continue
                try:
                    text = httpx.get(self.root.removesuffix("/api/v1") + "/metrics", timeout=10).text
                except httpx.HTTPError:
                    continue
                lags = [int(float(line.rsplit(" ", 1)[1])) for line in text.splitlines()
                        if line.startswith("platforms_projection_lag_events{")]
                if lags:
                    self.lag_events.append(max(lags))

    @contextmanager
    def running(self, lag: bool) -> Any:
        threads = [threading.Thread(target=self.sample, daemon=True)]
        if lag:
            threads += [threading.Thread(target=f, daemon=True) for f in (self.post, self.watch)]
        for t in threads:
            t.start()
        try:
            yield self
        finally:
            self.stop.set()
            for t in threads:
                t.join(timeout=60)


def run_wrk(urls: list[str], seconds: float, connections: int, method: str, headers: dict,
            body: dict | None) -> dict:
    """wrk over ``urls`` in turn (bench_api's script), one thread, and a 30 s timeout: wrk's
    default of 2 s would count a slow answer as an error and leave it out of the percentiles."""
    from urllib.parse import urlsplit

    headers = headers | ({"Content-Type": "application/json"} if body is not None else {})
    script = WRK_SCRIPT % {"paths": _lua([urlsplit(u).path for u in urls]), "headers": _lua(headers),
                           "body": _lua(json.dumps(body) if body is not None else None), "method": method}
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as f:
        f.write(script)
        f.flush()
        out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{int(seconds)}s", "--timeout", "30s", "-s", f.name,
                              "http://" + urlsplit(urls[0]).netloc], capture_output=True, text=True, check=True)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    return {"requests": r["requests"], "rps": r["requests"] / (r["duration_us"] / 1e6), "p50_ms": r["p50_us"] / 1000,
            "p99_ms": r["p99_us"] / 1000, "errors": r["errors"]}


def mixed_load(root: str, targets: list[str], reads: list[str], token: str | None, seconds: float,
               commands_c: int, reads_c: int) -> tuple[dict, dict]:
    """Two wrk processes at once: objections on ``targets`` and GETs of ``reads`` in turn."""
    out: dict[str, dict] = {}

    def run(kind: str, *args: Any) -> None:
        out[kind] = run_wrk(*args)

    auth = {"Authorization": f"Bearer {token}"} if token else {}
    jobs = [threading.Thread(target=run, args=("commands", [f"{root}/platforms/{p}/objections" for p in targets],
                                               seconds, commands_c, "POST", {}, OBJECTION)),
            threading.Thread(target=run, args=("reads", [f"{root}/{r}" for r in reads], seconds, reads_c, "GET",
                                               auth, None))]
    for j in jobs:
        j.start()
    for j in jobs:
        j.join()
    return out["commands"], out["reads"]


# ---------------------------------------------------------------------------- one N
@dataclass
class Result:
    workers: int
    app: tuple[dict, dict] | None = None
    floor: tuple[dict, dict] | None = None
    lags_ms: list[float] = field(default_factory=list)
    unreached: int = 0
    lag_events: list[int] = field(default_factory=list)
    probe: Counter = field(default_factory=Counter)
    sessions: Counter = field(default_factory=Counter)
    floor_sessions: Counter = field(default_factory=Counter)
    cpu: dict[str, float] = field(default_factory=dict)
    floor_cpu: dict[str, float] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def cli(args: list[str], env: dict, cwd: Path) -> None:
    done = subprocess.run([PYTHON, "-m", "api.cli", *args], cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"platforms {' '.join(args)} exited {done.returncode}: {done.stderr[-2000:]}")


def seed(env: dict, work: Path, platforms: int) -> list[str]:
    """The demo and the generated applications (development mode: the demo's accounts have
    published passwords), then the schema brought to this release for production mode."""
    cli(["demo"], env, work)
    here, saved = os.getcwd(), dict(os.environ)
    os.chdir(work)  # generate_load reads var/policies
    os.environ.update({k: env[k] for k in ("PLATFORMS_DATABASE_URL", "PLATFORMS_VAR_DIR")})
    try:
        targets = generate_load(env["PLATFORMS_DATABASE_URL"], platforms)
    finally:
        os.chdir(here)
        os.environ.clear()
        os.environ.update(saved)
    cli(["migrate"], env, work)
    return targets


def start(args: list[str], env: dict, cwd: Path, log: Path) -> subprocess.Popen:
    with open(log, "w") as out:
        return subprocess.Popen([PYTHON, *args], cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)


def stop(procs: list[subprocess.Popen | None]) -> None:
    for proc in procs:
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def room_for(n: int, base: str, pool_size: int) -> str | None:
    """Why N workers must not start now, if the server lacks the sessions they would take (the
    server is shared: taking its last sessions fails other people's work), else None."""
    with connect(base, "pgworkers-driver") as conn:
        limit = int(conn.execute("SHOW max_connections").fetchone()[0])
        (used,) = conn.execute("SELECT count(*) FROM pg_stat_activity").fetchone()
    bound = 6 * pool_size + 2
    need = min(SESSIONS_PER_WORKER, bound) * n + min(SESSIONS_RUNNER, bound) + SESSIONS_SCRIPT
    return None if limit - used >= need else f"{limit - used} free sessions of {limit}; N={n} needs about {need}"


def measure_one(n: int, args: argparse.Namespace, base: str, work_root: Path) -> Result | None:
    import httpx

    lacking = room_for(n, base, args.pool_size)
    if lacking:
        print(f"N={n}: skipped, PostgreSQL has {lacking}", flush=True)
        return None
    result = Result(n)
    schema = f"pgworkers_{uuid.uuid4().hex[:10]}"
    with connect(base, "pgworkers-driver") as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    work = work_root / f"workers-{n}"
    work.mkdir()
    names = {"api": f"{schema}-api", "runner": f"{schema}-runner", "floor": f"{schema}-floor"}
    dev = {**os.environ, "PLATFORMS_DATABASE_URL": f"{base}?schema={schema}", "PLATFORMS_MODE": "development",
           "PLATFORMS_VAR_DIR": str(work / "var"), "PLATFORMS_POLICY_DIR": str(work / "var" / "policies"),
           "PGAPPNAME": f"{schema}-seed",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")]))}
    prod = dev | {"PLATFORMS_MODE": "production", "PLATFORMS_SECRET_KEY": secrets.token_urlsafe(48),
                  "PLATFORMS_RUN_PROJECTIONS": "0", "PLATFORMS_OBJECTION_RATE_LIMIT": "0",
                  "PLATFORMS_POSTGRES_POOL_SIZE": str(args.pool_size),
                  "PLATFORMS_LOG_LEVEL": "INFO"}
    server = runner = floor = None
    try:
        print(f"N={n}: schema {schema}; seeding the demo and {args.platforms} applications...", flush=True)
        targets = seed(dev, work, args.platforms)
        port = free_port()
        root = f"http://127.0.0.1:{port}/api/v1"
        runner = start(["-m", "api.cli", "projections", "run"], prod | {"PGAPPNAME": names["runner"]}, work,
                       work / "runner.log")
        server = start(["-m", "api.cli", "serve", "--port", str(port), "--workers", str(n), "--log-level", "warning"],
                       prod | {"PGAPPNAME": names["api"]}, work, work / "server.log")
        wait_ready(f"{root}/readyz", timeout=600)  # N workers each verify the log as they start
        while httpx.get(f"{root}/readyz").status_code != 200:
            time.sleep(0.5)
        token = sign_in(root)
        reads = [r for p in targets for r in ("publicity-list", f"platforms/{p}", "subfields")]
        auth = {"Authorization": f"Bearer {token}"}
        bodies = {r: answer(httpx.get(f"{root}/{r}", headers=auth, timeout=60)) for r in dict.fromkeys(reads)}
        (work / "bodies.json").write_text(json.dumps(bodies, ensure_ascii=False))
        print(f"N={n}: {len(targets)} platforms in publicity; warm-up {args.warmup:g} s, then {args.seconds:g} s "
              f"measured", flush=True)
        if args.warmup > 0:
            mixed_load(root, targets, reads, token, args.warmup, args.commands, args.reads)
        probe = Probe(root, targets, base, schema, [names["api"], names["runner"]])
        workers = descendants(server.pid)
        groups = {"API processes": workers, "runner": [runner.pid]}
        before = CpuSnapshot.take(workers + [runner.pid])
        profiler = profile(args, work, workers[-1]) if args.profile and n == 1 else None
        with probe.running(lag=True):
            result.app = mixed_load(root, targets, reads, token, args.seconds, args.commands, args.reads)
            after = CpuSnapshot.take(workers + [runner.pid])
        if profiler is not None:
            profiler.wait()
            print_profile(work / "profile.txt")
        with connect(base, "pgworkers-driver") as conn:
            ours = [p for (p,) in conn.execute("SELECT pid FROM pg_stat_activity WHERE application_name = ANY(%s)",
                                               ([names["api"], names["runner"]],)).fetchall()]
        result.cpu = cpu_split(before, after, groups | {"postgres (ours)": ours})
        result.lags_ms = sorted(lag * 1000 for lag in probe.lags)
        result.unreached, result.lag_events = len(probe.pending), probe.lag_events
        result.probe, result.sessions = probe.statuses, probe.peak_sessions
        if len(descendants(server.pid)) != len(workers):
            result.problems.append(f"N={n}: an API worker was replaced during the run")
        stop([server, runner])
        server = runner = None

        create_floor_table(base, schema)
        floor_port = free_port()
        floor_env = dev | {"PGW_FLOOR_BODIES": str(work / "bodies.json"), "PGW_FLOOR_DSN": libpq_dsn(base, schema),
                           "PGAPPNAME": names["floor"]}
        floor = start(["-c", f"import uvicorn; uvicorn.run('bench_postgres_workers:floor_app', factory=True, "
                             f"host='127.0.0.1', port={floor_port}, workers={n}, log_level='warning', "
                             f"access_log=False, app_dir={str(HERE)!r})"], floor_env, work, work / "floor.log")
        floor_root = f"http://127.0.0.1:{floor_port}/api/v1"
        wait_ready(f"{floor_root}/subfields")
        if args.warmup > 0:
            mixed_load(floor_root, targets, reads, None, args.warmup, args.commands, args.reads)
        floor_probe = Probe(floor_root, targets, base, schema, [names["floor"]], metrics=False)
        floor_pids = descendants(floor.pid)
        before = CpuSnapshot.take(floor_pids)
        with floor_probe.running(lag=False):
            result.floor = mixed_load(floor_root, targets, reads, None, args.seconds, args.commands, args.reads)
            after = CpuSnapshot.take(floor_pids)
        with connect(base, "pgworkers-driver") as conn:
            ours = [p for (p,) in conn.execute("SELECT pid FROM pg_stat_activity WHERE application_name = %s",
                                               (names["floor"],)).fetchall()]
        result.floor_cpu = cpu_split(before, after, {"API processes": floor_pids, "postgres (ours)": ours})
        result.floor_sessions = floor_probe.peak_sessions
    finally:
        stop([server, runner, floor])
        with connect(base, "pgworkers-driver") as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    result.problems += crashes(work, n)
    for kind, r in zip(("commands", "reads"), result.app or (), strict=False):
        if r["errors"]:
            result.problems.append(f"N={n}: {r['errors']} {kind} were not answered 2xx")
    if set(result.probe) - {200}:
        result.problems.append(f"N={n}: probe objections answered {dict(result.probe)}")
    if result.unreached:
        result.problems.append(f"N={n}: the read models did not reach {result.unreached} probe position(s) in 30 s")
    return result


def sign_in(root: str) -> str:
    """The bureau's token, asking again while a worker that is still starting answers 503."""
    import httpx

    deadline = time.monotonic() + 300
    while True:
        r = httpx.post(f"{root}/auth/token", data={"username": "bureau", "password": "bureau-demo-2021"}, timeout=60)
        if r.status_code == 200 or time.monotonic() > deadline:
            return str(answer(r)["access_token"])
        time.sleep(1)


def answer(r: Any) -> Any:
    if r.status_code != 200:
        raise RuntimeError(f"{r.request.method} {r.request.url} answered {r.status_code}: {r.text[:500]}")
    return r.json()


def crashes(work: Path, n: int) -> list[str]:
    found = []
    for name in ("server.log", "runner.log", "floor.log"):
        path = work / name
        if path.exists() and "Traceback (most recent call last)" in path.read_text(errors="replace"):
            found.append(f"N={n}: a traceback in {path}")
    return found


# ---------------------------------------------------------------------------- profile
def profile(args: argparse.Namespace, work: Path, pid: int) -> subprocess.Popen | None:
    """py-spy sampling the interpreter of one API worker (the thread holding the GIL) for the
    measured window."""
    spy = shutil.which("py-spy")
    if spy is None:
        print("--profile: py-spy is not installed (pip install py-spy); not profiling", flush=True)
        return None
    return subprocess.Popen([spy, "record", "--gil", "--rate", "250", "--duration", str(int(args.seconds)),
                             "--format", "raw", "--output", str(work / "profile.txt"), "--pid", str(pid)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def print_profile(path: Path, top: int = 25) -> None:
    """Where one worker's interpreter time went: the frames that hold the most samples, each
    counted once per stack (below the ASGI plumbing every request passes through), and the
    frames that were running (self time)."""
    if not path.exists():
        print("no profile was written", flush=True)
        return
    inclusive: Counter = Counter()
    leaf: Counter = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        n = int(count)
        total += n
        frames = [_frame(f) for f in stack.split(";")[1:]]
        for frame in dict.fromkeys(frames):
            inclusive[frame] += n
        if frames:
            leaf[frames[-1]] += n
    print(f"\nprofile of one API worker (N=1): {total} samples of the thread holding the GIL, kept in {path}")
    print("inclusive (frames under 60 % of the samples):")
    for frame, n in [(f, n) for f, n in inclusive.most_common() if n < 0.6 * total][:top]:
        print(f"  {n / total:6.1%}  {frame}")
    print("self:")
    for frame, n in leaf.most_common(top // 2):
        print(f"  {n / total:6.1%}  {frame}")


def _frame(raw: str) -> str:
    """``function (path/to/module.py:line)`` as ``function  to/module.py``."""
    name, _, where = raw.partition(" (")
    return f"{name}  {'/'.join(where.split(':')[0].split('/')[-2:])}"


# ---------------------------------------------------------------------------- report
def pct(xs: list[float], p: float) -> float:
    return xs[min(len(xs) - 1, int(p * len(xs)))] if xs else float("nan")


def report(results: list[Result], inserts: dict[bool, dict], args: argparse.Namespace, load: tuple[str, str]) -> None:
    print(f"\nPostgreSQL, production mode, {args.seconds:g} s measured after {args.warmup:g} s of warm-up; wrk, "
          f"{args.commands} connections of objections + {args.reads} of reads (publicity list, one platform, "
          f"subfields in turn) at once; probe {PROBE_RATE:g} objections/s; load average {load[0]} → {load[1]}")
    head = (f"{'N':>2} {'':6} {'cmd/s':>7} {'p50':>6} {'p99':>7} {'reads/s':>8} {'p50':>6} {'p99':>7} "
            f"{'×floor c/r':>11} {'API CPU ms/req':>14} {'PG CPU ms/req':>13}")
    print(head)
    for r in results:
        for label, (cmd, rd), cpu in (("app", r.app, r.cpu), ("floor", r.floor, r.floor_cpu)):
            api_ms = cpu["API processes"] * 1000 / (cmd["rps"] + rd["rps"])
            pg_ms = cpu["postgres (ours)"] * 1000 / (cmd["rps"] + rd["rps"])
            if label == "app":
                ratio = (f"{cmd['rps'] / r.floor[0]['rps']:.2f}/{rd['rps'] / r.floor[1]['rps']:.2f}"
                         if r.floor else "")
            else:
                ratio = ""
            print(f"{r.workers:2d} {label:6} {cmd['rps']:7.0f} {cmd['p50_ms']:6.1f} {cmd['p99_ms']:7.1f} "
                  f"{rd['rps']:8.0f} {rd['p50_ms']:6.1f} {rd['p99_ms']:7.1f} {ratio:>11} {api_ms:14.2f} {pg_ms:13.2f}")
    print("(latencies in ms; CPU per request: the API processes' CPU time over all requests answered, and "
          "their PostgreSQL backends' CPU time, over the same)")
    for locked, r in inserts.items():
        how = ", each under LOCK TABLE … EXCLUSIVE" if locked else ""
        print(f"bare INSERT + COMMIT, {args.commands} connections{how}: {r['rps']:,.0f}/s, "
              f"p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms")
    print(f"\n{'N':>2} {'lag p50':>8} {'p99':>7} {'max':>7} {'events max':>10} {'sessions api/runner':>20} "
          f"{'floor':>6}")
    for r in results:
        lags = r.lags_ms
        api = sum(v for k, v in r.sessions.items() if k.endswith("-api"))
        runner = sum(v for k, v in r.sessions.items() if k.endswith("-runner"))
        print(f"{r.workers:2d} {pct(lags, .5):8.1f} {pct(lags, .99):7.1f} {max(lags, default=float('nan')):7.1f} "
              f"{max(r.lag_events, default=0):10d} {f'{api}/{runner}':>20} {sum(r.floor_sessions.values()):6d}")
    print("(lag: ms from a command's answer until every read model applied its position, "
          f"{len(results[0].lags_ms) if results else 0} probes at N={results[0].workers if results else '?'}; "
          "events: the largest platforms_projection_lag_events sampled each second)")
    print("\nCPU, cores used over the measured window (the machine has "
          f"{os.cpu_count()}):")
    cols = ["API processes", "runner", "postgres (ours)", "postgres", "load generator", "others", "machine"]
    print(f"{'N':>2} {'':6} " + " ".join(f"{c:>15}" for c in cols))
    for r in results:
        for label, cpu in (("app", r.cpu), ("floor", r.floor_cpu)):
            print(f"{r.workers:2d} {label:6} " + " ".join(f"{cpu[c]:15.2f}" if c in cpu else f"{'':>15}"
                                                           for c in cols))
    print("(postgres: every postgres process on the machine, other sessions' included; postgres (ours): the "
          "backends of this run's processes; load generator: wrk and this script's probe)")


# ---------------------------------------------------------------------------- main
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4], help="API worker counts to measure")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured seconds of each load")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds of the same load before each measurement")
    parser.add_argument("--platforms", type=int, default=120,
                        help="generated applications on top of the demo (about half, at most 60, in publicity)")
    parser.add_argument("--commands", type=int, default=16, help="wrk connections posting objections")
    parser.add_argument("--reads", type=int, default=16, help="wrk connections reading")
    parser.add_argument("--pool-size", type=int, default=3,
                        help="PLATFORMS_POSTGRES_POOL_SIZE of the workers and the runner (as env.example)")
    parser.add_argument("--quick", action="store_true", help="a short smoke run: 3 s each after 1 s, 20 platforms")
    parser.add_argument("--profile", action="store_true", help="py-spy one API worker during the N=1 window")
    parser.add_argument("--store", help=argparse.SUPPRESS)  # `make bench --store sqlite` is for the others
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.warmup, args.platforms = 3.0, 1.0, 20
    if args.store == "sqlite":
        print("PostgreSQL only: nothing to measure with --store sqlite")
        return 0
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk): it drives this benchmark")
        return 1
    base = os.environ.get("PLATFORMS_BENCH_POSTGRES_URL") or DEFAULT_URL
    try:
        connect(base, "pgworkers-driver").close()
    except Exception as exc:  # noqa: BLE001 - no server: nothing to measure
        print(f"PostgreSQL does not answer at {base.split('@')[-1]}: {exc.__class__.__name__}; skipped")
        return 0
    load_before = Path("/proc/loadavg").read_text().split()[0]
    print(f"the bare database: {args.commands} connections inserting and committing, "
          f"{min(args.seconds, 5):g} s without and with the event store's table lock...", flush=True)
    inserts = {locked: insert_floor(base, args.commands, min(args.seconds, 5), locked) for locked in (False, True)}
    work = Path(tempfile.mkdtemp(prefix="bench-pgworkers-"))
    results = [r for r in (measure_one(n, args, base, work) for n in args.workers) if r is not None]
    load_after = Path("/proc/loadavg").read_text().split()[0]
    report(results, inserts, args, (load_before, load_after))
    problems = [p for r in results for p in r.problems]
    for p in problems:
        print(f"PROBLEM: {p}")
    if problems or args.profile:
        print(f"the processes' logs are kept in {work}")
    else:
        shutil.rmtree(work)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

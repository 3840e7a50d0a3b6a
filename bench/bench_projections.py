"""Benchmark of the read models: rebuild time and memory beside the raw floor, and follow lag.

    .venv/bin/python bench/bench_projections.py [--events 200000 1000000] [--store sqlite|postgres|both]
        [--repeat 3] [--before SRC] [--no-lag]

1. A programme of each ``--events`` size, made once and cached under ``var/bench/``: up to
   ``--seed`` events of cohorts with every kind of ending (``tests/cohorts.py``) written through
   ``RegistryApp``'s commands by the programme driver (:mod:`aggregates.programme`); a larger one
   is copies of that seed with fresh aggregate ids (``bench/programme_copies.py``, which says
   why); on PostgreSQL, the SQLite programme of the same size copied in row for row, in a schema
   of its own (``bench_<events>``, dropped when measured).
2. The raw floor (``bench/read_floor.py``), a whole process: read every stored event row of the
   same store and ``json.loads`` its state, nothing else.
3. The rebuild, a whole process: ``platforms projections rebuild`` on the store, wall clock from
   its start (imports included) to its exit; its CPU time and peak memory with its helpers
   (the sum of each process's own peak, ``VmHWM``: an overstatement, since a forked helper
   shares its parent's pages until either writes them).
4. Floor and rebuild alternate, ``--repeat`` times each; the medians are reported, and
   ``ratio = floor seconds / rebuild seconds`` (1 would be a rebuild as fast as reading).
5. Lag: a thread keeps issuing commands while the background runner follows; lag is the time
   from a command's commit to its position being applied to every model.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("EVENTSOURCING_DISABLE_REDEFINITION_CHECK", "y")

from aggregates.application import CommandResult, RegistryApp  # noqa: E402
from aggregates.event_table import read_model_path  # noqa: E402
from aggregates.migrations import migrate  # noqa: E402
from aggregates.programme import Programme  # noqa: E402
from aggregates.store import StoreConfig  # noqa: E402
from cohorts import cohort, cohorts_recorded  # noqa: E402
from programme_copies import copy_to_postgres, replicate  # noqa: E402
from projections.db import make_engine  # noqa: E402

# Events generated through the commands (tens of minutes on a busy two-core machine); a larger
# programme is copies of these (bench/programme_copies.py).
SEED_EVENTS = 30_000
PG_BASE = os.environ.get("PLATFORMS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def store_url(kind: str, events: int) -> str:
    if kind == "sqlite":
        path = ROOT / "var" / "bench" / f"programme-{events}.sqlite3"
        path.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{path}"
    return f"{PG_BASE}?schema=bench_{events}"


def ensure_pg_schema(url: str) -> None:
    import psycopg

    env = StoreConfig(url).eventsourcing_env()
    with psycopg.connect(host=env["POSTGRES_HOST"], port=int(env["POSTGRES_PORT"]), user=env["POSTGRES_USER"],
                         dbname=env["POSTGRES_DBNAME"], autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{env["POSTGRES_SCHEMA"]}"')


def fresh_lag_store(kind: str) -> str:
    """The lag measurement writes new commands: into a store of its own, so the cached
    programme stays exactly as generated."""
    if kind == "sqlite":
        path = ROOT / "var" / "bench" / f"lag-{os.getpid()}.sqlite3"
        return f"sqlite:///{path}"
    url = f"{PG_BASE}?schema=bench_lag_{os.getpid()}"
    ensure_pg_schema(url)
    return url


def drop_store(url: str) -> None:
    """Delete the store ``url``: its files (SQLite), its schema (PostgreSQL)."""
    if url.startswith("sqlite"):
        events = StoreConfig(url).sqlite_path
        for path in (events, read_model_path(events)):  # the event store and its read models' file
            for suffix in ("", "-wal", "-shm"):
                Path(path + suffix).unlink(missing_ok=True)
        return
    import psycopg

    env = StoreConfig(url).eventsourcing_env()
    with psycopg.connect(host=env["POSTGRES_HOST"], port=int(env["POSTGRES_PORT"]), user=env["POSTGRES_USER"],
                         dbname=env["POSTGRES_DBNAME"], autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{env["POSTGRES_SCHEMA"]}" CASCADE')


def generate(url: str, events: int) -> tuple[int, float]:
    """Write cohorts through the commands until the log holds ``events`` events (reused when a
    previous run already did). Business dates are 2022-2024: in the past, as the rules want."""
    if url.startswith("postgresql"):
        ensure_pg_schema(url)
    app = RegistryApp(StoreConfig(url))
    have = app.recorder.max_notification_id() or 0
    t0 = time.perf_counter()
    prog = Programme(app)
    index = cohorts_recorded(app)  # resume after the cohorts already in the log
    last = time.perf_counter()
    while (app.recorder.max_notification_id() or 0) < events:
        cohort(prog, index)
        index += 1
        if time.perf_counter() - last > 5:
            last = time.perf_counter()
            print(f"  generating: {app.recorder.max_notification_id():,} / {events:,} events", flush=True)
    total = app.recorder.max_notification_id() or 0
    elapsed = time.perf_counter() - t0
    app.close()
    return total, (total - have) / elapsed if total > have and elapsed else 0.0


def programme(kind: str, events: int, seed: int) -> tuple[str, str]:
    """The store of a ``events``-event programme (made once, then cached) and how it was made:
    up to ``seed`` events generated through the commands; beyond, copies of the ``seed``-event
    programme (:func:`programme_copies.replicate`); on PostgreSQL, the SQLite programme of the
    same size copied in (:func:`programme_copies.copy_to_postgres`)."""
    url = store_url(kind, events)
    if kind == "postgres":
        ensure_pg_schema(url)
        app = RegistryApp(StoreConfig(url))
        have = app.recorder.max_notification_id() or 0
        app.close()
        if have >= events:
            return url, "cached"
        source, how = programme("sqlite", events, seed)
        t0 = time.perf_counter()
        copy_to_postgres(source, url)
        return url, f"copied from {source} in {time.perf_counter() - t0:.0f} s ({how})"
    if events <= seed:
        total, rate = generate(url, events)
        return url, f"generated at {rate:,.0f} events/s" if rate else "cached"
    path = Path(StoreConfig(url).sqlite_path)
    if path.is_file():
        return url, "cached"
    seed_url = store_url(kind, seed)
    generate(seed_url, seed)
    t0 = time.perf_counter()
    replicate(seed_url, url, events)
    return url, f"copies of the {seed:,}-event programme, made in {time.perf_counter() - t0:.0f} s"


def floor_command(url: str) -> list[str]:
    """The raw floor's command line on the store ``url`` (:mod:`read_floor`)."""
    config = StoreConfig(url)
    script = str(ROOT / "bench" / "read_floor.py")
    if config.is_sqlite:
        return [sys.executable, script, "sqlite", config.sqlite_path, "stored_events"]
    env = config.eventsourcing_env()
    conninfo = f"host={env['POSTGRES_HOST']} port={env['POSTGRES_PORT']} user={env['POSTGRES_USER']} " \
               f"dbname={env['POSTGRES_DBNAME']}"
    app = RegistryApp(config)
    table = f"{env['POSTGRES_SCHEMA']}.{app.recorder.events_table_name}"
    app.close()
    return [sys.executable, script, "postgres", conninfo, table]


def rebuild_command() -> list[str]:
    """``platforms projections rebuild`` as an operator runs it (the venv's console script)."""
    script = Path(sys.executable).with_name("platforms")
    if script.exists():
        return [str(script), "projections", "rebuild"]
    return [sys.executable, "-c", "from api.cli import app; app()", "projections", "rebuild"]


def whole_process(cmd: list[str], url: str, src: Path = ROOT / "src") -> dict:
    """Run ``cmd`` on the store ``url`` as a process of its own, with the code in ``src``: wall
    seconds from its start to its exit, CPU seconds of it and its children, and the sum of their
    peak memories (MiB)."""
    env = {**os.environ, "PYTHONPATH": str(src), "PLATFORMS_DATABASE_URL": url,
           "PLATFORMS_VAR_DIR": str(ROOT / "var" / "bench"), "PLATFORMS_LOG_LEVEL": "WARNING"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peaks: dict[int, int] = {}
    sampler = threading.Thread(target=_sample_peaks, args=(proc, peaks), daemon=True)
    sampler.start()
    out, err = proc.communicate()
    seconds = time.perf_counter() - t0
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {err.strip()[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    # The largest child's peak as the kernel kept it, should sampling have missed its last rise.
    largest = after.ru_maxrss / 1024
    return {"seconds": seconds, "cpu": cpu, "peak_mb": max(sum(peaks.values()) / 1024, largest),
            "processes": max(1, len(peaks)), "out": out}


def _sample_peaks(proc: subprocess.Popen, peaks: dict[int, int]) -> None:
    """Until ``proc`` exits: each process of its tree's own peak (VmHWM, kB), by pid."""
    while proc.poll() is None:
        for pid in _tree(proc.pid):
            hwm = _vm_hwm(pid)
            if hwm is not None and hwm > peaks.get(pid, 0):
                peaks[pid] = hwm
        time.sleep(0.02)


def _tree(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo.extend(int(c) for c in fh.read().split())
        except OSError:  # gone meanwhile
            continue
    return found


def _vm_hwm(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def measure_floor(url: str) -> dict:
    result = whole_process(floor_command(url), url)
    result["events"] = json.loads(result.pop("out").strip().splitlines()[-1])["events"]
    return result


def measure_rebuild(url: str, src: Path = ROOT / "src") -> dict:
    result = whole_process(rebuild_command(), url, src)
    out = result.pop("out")
    result["events"] = max(int(line.rsplit(" ", 1)[1]) for line in out.splitlines() if "at position" in line)
    return result


def measure_lag(url: str, seconds: float = 10.0) -> dict:
    """Commands keep arriving (one writer thread) while the background runner follows."""
    from projections.runner import ReadModelRunner

    migrate(StoreConfig(url))
    app = RegistryApp(StoreConfig(url))
    engine = make_engine(app.store)
    runner = ReadModelRunner(app, engine)
    runner.catch_up()
    committed: dict[int, float] = {}
    applied: dict[int, float] = {}
    runner.on_batch = lambda pos: applied.__setitem__(pos, time.perf_counter())
    writer_app = RegistryApp(StoreConfig(url))

    def after_command(result: CommandResult) -> None:
        committed[result.position or writer_app.recorder.max_notification_id()] = time.perf_counter()
        runner.notify()

    prog = Programme(writer_app, on_command=after_command)
    stop = threading.Event()

    def write() -> None:
        index = 0
        while not stop.is_set():
            cohort(prog, index, size=3)
            index += 1

    runner.start_background(poll_interval=0.2)
    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    time.sleep(seconds)
    stop.set()
    writer.join()
    runner.wait_for(writer_app.recorder.max_notification_id(), timeout=10)
    runner.stop()
    done = sorted(applied.items())
    lags = []
    for pos, t_commit in committed.items():
        t_applied = next((t for p, t in done if p >= pos), None)
        if t_applied is not None:
            lags.append(max(0.0, t_applied - t_commit))
    lags.sort()
    return {"commands": len(committed), "p50_ms": 1000 * statistics.median(lags),
            "p99_ms": 1000 * lags[int(0.99 * (len(lags) - 1))], "max_ms": 1000 * lags[-1]}


def _median(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def run(kind: str, events: int, seed: int, repeat: int = 1, lag: bool = True, before: Path | None = None) -> dict:
    url, how = programme(kind, events, seed)
    try:
        return measure(kind, url, how, repeat, lag, before)
    finally:
        if kind == "postgres":
            drop_store(url)  # the shared server's schema goes; the SQLite programme stays cached


def measure(kind: str, url: str, how: str, repeat: int, lag: bool, before: Path | None) -> dict:
    app = RegistryApp(StoreConfig(url))
    total = app.recorder.max_notification_id() or 0
    app.close()
    print(f"[{kind}] store {url}: {total:,} events ({how})")
    migrate(StoreConfig(url))  # the read models' tables and positions, as `platforms migrate` makes them
    # Floor and rebuild (and the rebuild of the code ``before``, if given) alternate, ``repeat``
    # times each: on a shared machine single runs wander; the medians are reported.
    floors: list[dict] = []
    rebs: list[dict] = []
    befores: list[dict] = []
    for i in range(repeat):
        floors.append(measure_floor(url))
        if before is not None:
            befores.append(measure_rebuild(url, before))
        rebs.append(measure_rebuild(url))
        f = floors[-1]
        line = f"[{kind}] run {i + 1}/{repeat}: floor {f['seconds']:.2f} s ({f['cpu']:.2f} s CPU)"
        for name, r in (("before", befores[-1] if befores else None), ("rebuild", rebs[-1])):
            if r is not None:
                line += (f", {name} {r['seconds']:.2f} s ({r['cpu']:.2f} s CPU, {r['processes']} processes, "
                         f"peak {r['peak_mb']:,.0f} MiB, ratio {f['seconds'] / r['seconds']:.2f})")
        print(f"{line}; load {os.getloadavg()[0]:.1f}", flush=True)
    result: dict = {"store": kind, "events": total, "floor_s": _median(floors, "seconds"),
                    "floor_cpu": _median(floors, "cpu"), "rebuilds": {"rebuild": _summary(rebs)}}
    if befores:
        result["rebuilds"] = {"before": _summary(befores), "after": _summary(rebs)}
    if lag:
        lag_url = fresh_lag_store(kind)
        try:
            result["lag"] = measure_lag(lag_url)
        finally:
            drop_store(lag_url)
    return result


def _summary(runs: list[dict]) -> dict:
    return {"seconds": _median(runs, "seconds"), "cpu": _median(runs, "cpu"),
            "peak_mb": max(r["peak_mb"] for r in runs)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, nargs="+", default=[200_000, 1_000_000], help="programme sizes")
    ap.add_argument("--store", choices=["sqlite", "postgres", "both"], default="sqlite")
    ap.add_argument("--repeat", type=int, default=3, help="floor/rebuild runs each (medians reported)")
    ap.add_argument("--seed", type=int, default=SEED_EVENTS,
                    help="events generated through the commands; a larger store is copies of them")
    ap.add_argument("--before", type=Path, metavar="SRC",
                    help="also rebuild with the code in SRC (e.g. an export of main's src), alternating")
    ap.add_argument("--no-lag", action="store_true", help="skip the follow-lag measurement")
    args = ap.parse_args()
    kinds = ["sqlite", "postgres"] if args.store == "both" else [args.store]
    results = [run(k, n, args.seed, args.repeat, lag=not args.no_lag and n == args.events[0], before=args.before)
               for n in args.events for k in kinds]
    print()
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; medians of {args.repeat} run(s)")
    print(f"{'store':8} {'events':>10} {'code':8} {'floor s':>8} {'rebuild s':>10} {'ratio':>6} "
          f"{'CPU floor/rebuild s':>20} {'peak MiB':>9} {'lag p50/p99/max ms':>20}")
    for r in results:
        lag = r.get("lag")
        lags = f"{lag['p50_ms']:>6.0f}/{lag['p99_ms']:.0f}/{lag['max_ms']:.0f}" if lag else "-"
        for code, rb in r["rebuilds"].items():
            print(f"{r['store']:8} {r['events']:>10,} {code:8} {r['floor_s']:>8.2f} {rb['seconds']:>10.2f} "
                  f"{r['floor_s'] / rb['seconds']:>6.2f} {r['floor_cpu']:>9.2f}/{rb['cpu']:<10.2f} "
                  f"{rb['peak_mb']:>9,.0f} {lags:>20}")
    print("targets: ratio (floor s / rebuild s, whole processes) >= 0.4, rebuild peak < 500 MiB, lag < 1 s")


if __name__ == "__main__":
    main()

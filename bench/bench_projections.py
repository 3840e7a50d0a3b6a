"""Benchmark of the read models: rebuild throughput, memory and follow lag.

    .venv/bin/python bench/bench_projections.py [--events 200000] [--store sqlite|postgres|both]

1. Generate (or reuse, cached under ``var/bench/``) a programme of ``--events`` events: cohorts
   with every kind of ending (``tests/cohorts.py``) written through ``RegistryApp``'s commands by
   the programme driver (:mod:`aggregates.programme`).
2. Baseline: read and decode the whole log with the library (``select_notifications`` +
   ``to_domain_event``) and nothing else — in a fresh child process.
3. Rebuild all read models from position 0 — in a fresh child process, so its peak RSS
   (``ru_maxrss``) is the rebuild's own; the rebuild's helper processes (one per CPU) add
   theirs.
4. Lag: a thread keeps issuing commands while the background runner follows; lag is the time
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
os.environ.setdefault("EVENTSOURCING_DISABLE_REDEFINITION_CHECK", "y")

from aggregates.application import CommandResult, RegistryApp  # noqa: E402
from aggregates.event_table import read_model_path  # noqa: E402
from aggregates.migrations import migrate  # noqa: E402
from aggregates.programme import Programme  # noqa: E402
from aggregates.store import StoreConfig  # noqa: E402
from cohorts import cohort, cohorts_recorded  # noqa: E402
from projections.db import make_engine  # noqa: E402

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


def drop_lag_store(url: str) -> None:
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


def phase_baseline(url: str) -> dict:
    app = RegistryApp(StoreConfig(url))
    t0 = time.perf_counter()
    position, n = 0, 0
    while True:
        batch = app.recorder.select_notifications(position + 1, 5000, inclusive_of_start=True)
        if not batch:
            break
        for notification in batch:
            app.mapper.to_domain_event(notification)
        n += len(batch)
        position = batch[-1].id
    elapsed = time.perf_counter() - t0
    return {"events": n, "seconds": elapsed, "rate": n / elapsed, "maxrss_mb": _maxrss_mb()}


def phase_rebuild(url: str) -> dict:
    from projections.rebuild import rebuild

    migrate(StoreConfig(url))  # the read models' tables and positions, as `platforms migrate` makes them
    app = RegistryApp(StoreConfig(url))
    engine = make_engine(app.store)
    t0 = time.perf_counter()
    positions = rebuild(app, engine)
    elapsed = time.perf_counter() - t0
    n = max(positions.values())
    # The rebuild forks helpers (one per CPU): their peak counts too. Summing the peaks
    # overstates (a forked helper shares the parent's pages until either writes them).
    return {"events": n, "seconds": elapsed, "rate": n / elapsed,
            "maxrss_mb": _maxrss_mb() + _maxrss_mb(resource.RUSAGE_CHILDREN)}


def _maxrss_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # Linux: kilobytes (children: the largest)


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


def child(phase: str, url: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--phase", phase, "--url", url],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _median_run(runs: list[dict]) -> dict:
    """The run of median rate (peak memory: the largest of all runs)."""
    ordered = sorted(runs, key=lambda r: r["rate"])
    median = dict(ordered[(len(ordered) - 1) // 2]) if len(ordered) % 2 else dict(ordered[len(ordered) // 2 - 1])
    median["rate"] = statistics.median(r["rate"] for r in runs)
    median["maxrss_mb"] = max(r["maxrss_mb"] for r in runs)
    median["runs"] = [round(r["rate"]) for r in runs]
    return median


def run(kind: str, events: int, repeat: int = 1) -> dict:
    url = store_url(kind, events)
    print(f"[{kind}] store {url}")
    total, gen_rate = generate(url, events)
    print(f"[{kind}] {total:,} events in the log"
          + (f" (generated at {gen_rate:,.0f} events/s)" if gen_rate else " (cached)"))
    # Baseline and rebuild back to back, ``repeat`` times each: on a shared machine single
    # runs wander; the medians are reported (and every run, for the record).
    bases, rebs = [], []
    for i in range(repeat):
        bases.append(child("baseline", url))
        rebs.append(child("rebuild", url))
        if repeat > 1:
            print(f"[{kind}] run {i + 1}/{repeat}: baseline {bases[-1]['rate']:,.0f} ev/s, "
                  f"rebuild {rebs[-1]['rate']:,.0f} ev/s, peak {rebs[-1]['maxrss_mb']:,.0f} MB", flush=True)
    base = _median_run(bases)
    reb = _median_run(rebs)
    lag_url = fresh_lag_store(kind)
    try:
        lag = measure_lag(lag_url)
    finally:
        drop_lag_store(lag_url)
    return {"store": kind, "events": total, "baseline": base, "rebuild": reb, "lag": lag}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--store", choices=["sqlite", "postgres", "both"], default="sqlite")
    ap.add_argument("--repeat", type=int, default=3, help="baseline/rebuild runs each (medians reported)")
    ap.add_argument("--phase", choices=["baseline", "rebuild"], help=argparse.SUPPRESS)
    ap.add_argument("--url", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.phase:
        print(json.dumps(phase_baseline(args.url) if args.phase == "baseline" else phase_rebuild(args.url)))
        return
    kinds = ["sqlite", "postgres"] if args.store == "both" else [args.store]
    results = [run(k, args.events, args.repeat) for k in kinds]
    print()
    print(f"{'store':8} {'events':>10} {'baseline ev/s':>14} {'rebuild ev/s':>13} {'ratio':>6} "
          f"{'rebuild peak MB':>16} {'lag p50/p99/max ms':>20}")
    for r in results:
        b, rb, lag = r["baseline"], r["rebuild"], r["lag"]
        print(f"{r['store']:8} {r['events']:>10,} {b['rate']:>14,.0f} {rb['rate']:>13,.0f} "
              f"{rb['rate'] / b['rate']:>6.2f} {rb['maxrss_mb']:>16,.0f} "
              f"{lag['p50_ms']:>6.0f}/{lag['p99_ms']:.0f}/{lag['max_ms']:.0f}")
    print("targets: rebuild >= 20,000 ev/s on SQLite, ratio >= 0.3, peak < 500 MB at 1,000,000 events, lag < 1 s")


if __name__ == "__main__":
    main()

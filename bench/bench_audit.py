"""Audit benchmark: ``platforms audit verify`` of a large log on SQLite, as whole processes, beside
its raw floor measured in the same run.

* **floor** (bench/audit_floor.py, a process of its own): open the store, read every stored event
  row, hash each once with SHA-256; only the interpreter, the driver and ``hashlib``;
* **verify**: the ``platforms audit verify`` command as an operator runs it (the venv's console
  script, interpreter start-up and imports included), split over one process per CPU
  (:mod:`audit.verify_split`): every row's chain hash recomputed from its stored bytes, every
  ``prev_hash`` link, versions without gaps, every row against its seal, the Merkle root of the
  whole log against the signed checkpoint; ``--one``: also with ``--workers 1``;
* **verify --deep**: the same plus every event decoded through the application's mapper.

Floor and verify alternate ``--repeat`` times (the machine's load moves); the figures are their
medians and ratio = floor seconds / verify seconds (the issue's target: at least 0.5). Each is
timed from its start to its exit, with its CPU time and its peak memory (max RSS of the largest
of it and the helper processes it forks), read with ``wait4``. Also: a platform with 1,000 events
rebuilt as of versions spread over its life.

The generated store (real platforms as templates, cloned into many correctly chained streams)
is cached under var/bench/ and reused; ``--events`` picks the size, ``--fresh`` regenerates.

    python bench/bench_audit.py [--events 1000000] [--fresh] [--no-deep] [--one] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))
os.environ.setdefault("EVENTSOURCING_DISABLE_REDEFINITION_CHECK", "y")

from audit.keys import CheckpointKeys  # noqa: E402 - from src, on the path just set

NOW = "2024-01-05T03:00:00+00:00"
CACHE = ROOT / "var" / "bench"
FORMAT = "chain-v4-sealed"  # bump when the stored hash definition or the leaf encoding changes
# The checkpoint key of the cached stores (their public half pinned beside it).
KEYS = CheckpointKeys(CACHE / "keys" / "checkpoint.pem", CACHE / "keys" / "checkpoint.pub")


def _app(url: str):  # noqa: ANN202
    from aggregates.application import RegistryApp
    from aggregates.store import StoreConfig

    return RegistryApp(StoreConfig(url))


def generate(path: Path, events: int) -> None:
    """Real platforms as templates, cloned into many correctly chained synthetic streams: the
    template rows' bytes with the stream's own prev_hash spliced in (the hash is then that of
    the new bytes, as the writer would have recorded it), each event sealed as a write of its
    own (most commands write one event: the seal's worst case for the verifier)."""
    from freezegun import freeze_time

    from aggregates.hashing import GENESIS, stored_event_hash
    from aggregates.log_seal import TABLE, seal_rows
    from aggregates.programme import Driver
    from audit.rows import iter_rows

    url = f"sqlite:///{path}"
    with freeze_time(NOW):
        app = _app(url)
        Driver(app, subfield="智能芯片").to("funded")
    rows = list(iter_rows(app))
    template = [r for r in rows if r.originator_id == rows[0].originator_id]
    app.close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    batch: list[tuple] = []
    seals: list[tuple] = []
    done = len(rows)
    seq = conn.execute(f"SELECT MAX(seq) FROM {TABLE}").fetchone()[0]

    def flush() -> None:
        with conn:
            conn.executemany("INSERT INTO stored_events VALUES (?,?,?,?)", batch)
            conn.executemany(f"INSERT INTO {TABLE} VALUES (?,?,?,?,?,?,?)", seals)
        batch.clear()
        seals.clear()

    while done < events:
        oid = uuid.uuid4().hex
        prev = GENESIS
        for t in template[: events - done]:
            i = t.state.index(b'"prev_hash":"') + 13
            data = t.state[:i] + prev.encode() + t.state[i + 64:]
            prev = stored_event_hash(t.topic, oid, t.version, data)
            batch.append((oid, t.version, t.topic, data))
            (first, count, leaves, names, at), = seal_rows([(done + 1, oid, t.version, t.topic, data)], NOW)
            seq += 1
            seals.append((seq, done, first, count, leaves, names, at))
            done += 1
        if len(batch) >= 50000:
            flush()
    flush()
    conn.close()


def _generate_signed(path: Path, events: int) -> None:
    from aggregates.migrations import migrate
    from aggregates.store import StoreConfig
    from audit.checkpoints import sign_checkpoint

    generate(path, events)
    migrate(StoreConfig(f"sqlite:///{path}"))  # the checkpoints' table, as `platforms migrate` makes it
    app = _app(f"sqlite:///{path}")
    sign_checkpoint(app, KEYS.load_signer(), KEYS)  # the verifier checks the log against it
    app.close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def prepare(events: int, fresh: bool) -> str:
    """The cached store of ``events`` events with a signed checkpoint over all of them."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"audit-{FORMAT}-{events}.sqlite3"
    if fresh or not path.exists():
        for stale in CACHE.glob(f"{path.name}*"):
            stale.unlink()
        tmp = path.with_suffix(".partial")
        for stale in CACHE.glob(f"{tmp.name}*"):
            stale.unlink()
        t = time.perf_counter()
        # In a process of its own: a process started later would inherit its peak memory
        # (Linux keeps the high-water mark across fork and exec), spoiling every figure.
        maker = mp.get_context("spawn").Process(target=_generate_signed, args=(tmp, events))
        maker.start()
        maker.join()
        if maker.exitcode != 0:
            raise SystemExit(f"generating the store failed (exit code {maker.exitcode})")
        shutil.move(tmp, path)
        for side in CACHE.glob(f"{tmp.name}-*"):
            side.unlink()
        print(f"generated {events:,} chained events in {time.perf_counter() - t:.1f} s -> {path}")
    else:
        print(f"reusing {path} ({path.stat().st_size / 2**20:.0f} MiB; --fresh to regenerate)")
    return f"sqlite:///{path}"


def _command(events_url: str, src: Path) -> tuple[list[str], dict[str, str]]:
    """``platforms`` as an operator runs it (the venv's console script, the code under ``src``
    first on the path), and its environment: the store and the pinned key of the cached store."""
    script = Path(sys.executable).with_name("platforms")
    argv = [str(script)] if script.exists() else [sys.executable, "-c", "import sys; from api.cli import app; "
                                                  "sys.argv[0] = 'platforms'; sys.exit(app())"]
    env = {**os.environ, "PYTHONPATH": str(src), "PLATFORMS_DATABASE_URL": events_url,
           "PLATFORMS_CHECKPOINT_KEY": str(KEYS.private), "PLATFORMS_CHECKPOINT_PUBKEY": str(KEYS.pinned),
           "PLATFORMS_VAR_DIR": str(CACHE / "var")}
    env.pop("EVENTSOURCING_DISABLE_REDEFINITION_CHECK", None)  # as an operator's shell has it
    return argv, env


@dataclass(frozen=True)
class Run:
    """One whole process: wall clock from start to exit, CPU time (user + system, its helper
    processes included) and peak memory (the largest of it and the helpers it waited for)."""

    events: int
    seconds: float
    cpu: float
    peak_mib: float


def run_process(argv: list[str], env: dict[str, str]) -> tuple[Run, str]:
    """Run ``argv`` to its end; its :class:`Run` and its standard output."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=err, cwd=ROOT)
        # wait4: this child's own figures (RUSAGE_BOTH: it and the processes it waited for)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        text = out.read().decode()
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} exited {proc.returncode}:\n{err.read().decode()[-2000:]}")
    return Run(0, seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024), text


def floor(url: str) -> Run:
    """The raw floor (bench/audit_floor.py): read every stored row and SHA-256 it once."""
    run, text = run_process([sys.executable, str(Path(__file__).with_name("audit_floor.py")), url], dict(os.environ))
    return replace(run, events=int(text))


def verify(url: str, *options: str, src: Path = ROOT / "src") -> Run:
    """``platforms audit verify [options]`` (the code under ``src``), which must find the log intact."""
    argv, env = _command(url, src)
    run, text = run_process([*argv, "audit", "verify", *options], env)
    report = json.loads(text)
    assert report["ok"] and report["checkpoints_checked"], report
    return replace(run, events=report["events_checked"])


def show(label: str, run: Run) -> None:
    print(f"{label:<34} {run.events:>9,} events {run.seconds:7.2f} s wall {run.cpu:7.2f} s CPU  "
          f"{run.events / run.seconds:>9,.0f} events/s  peak {run.peak_mib:6.0f} MiB", flush=True)


def as_of_bench() -> None:
    import tempfile

    from freezegun import freeze_time

    from aggregates.programme import Driver
    from aggregates.values import ChangeKind
    from audit.timetravel import as_of_version

    tmp = tempfile.mkdtemp()
    with freeze_time(NOW):
        app = _app(f"sqlite:///{tmp}/asof.sqlite3")
        d = Driver(app, subfield="智能算力").to("under_construction")
        v = app.get_platform(d.pid).version
        while v < 1000:
            d.programme.change(d.pid, ChangeKind.GOALS, f"目标{v}", description="调整", reported_on="2023-01-02",
                               decided_on="2023-01-02")
            v = app.get_platform(d.pid).version
    versions = list(range(1, v + 1, 7)) + [99, 100, 199, 999, v]
    times = []
    for n in versions:
        t = time.perf_counter()
        as_of_version(app, d.pid, n)
        times.append((time.perf_counter() - t) * 1000)
    app.close()
    shutil.rmtree(tmp, ignore_errors=True)
    worst = versions[times.index(max(times))]
    print(f"as_of_version on a {v}-event platform: median {statistics.median(times):.2f} ms, "
          f"p95 {sorted(times)[int(len(times) * 0.95)]:.2f} ms, max {max(times):.2f} ms (version {worst}) "
          f"over {len(times)} versions (target < 20 ms)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--fresh", action="store_true", help="regenerate the cached store")
    parser.add_argument("--no-deep", action="store_true", help="skip verify --deep")
    parser.add_argument("--one", action="store_true", help="also verify in one process (--workers 1)")
    parser.add_argument("--repeat", type=int, default=3, help="alternate the floor and verify this many times")
    parser.add_argument("--before", type=Path, help="the src directory of another checkout (e.g. `git archive "
                        "COMMIT src | tar -x -C DIR`): its verify alternates with this one's")
    args = parser.parse_args()
    url = prepare(args.events, args.fresh)
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs", flush=True)
    floors, verifies, ones, befores = [], [], [], []
    for _ in range(args.repeat):  # alternating, so that all see the same load
        floors.append(floor(url))
        show("floor (read + SHA-256 once)", floors[-1])
        verifies.append(verify(url))
        show("platforms audit verify", verifies[-1])
        if args.before:
            befores.append(verify(url, src=args.before.resolve()))
            show(f"the same, code of {args.before}", befores[-1])
        if args.one:
            ones.append(verify(url, "--workers", "1"))
            show("platforms audit verify --workers 1", ones[-1])
    f = statistics.median(r.seconds for r in floors)
    v = statistics.median(r.seconds for r in verifies)
    pairs = ", ".join(f"{a.seconds / b.seconds:.2f}" for a, b in zip(floors, verifies, strict=True))
    print(f"median: floor {f:.2f} s, verify {v:.2f} s: ratio floor/verify {f / v:.2f} (target >= 0.5; "
          f"each pair: {pairs}); verify peak {max(r.peak_mib for r in verifies):.0f} MiB; "
          f"load average now {os.getloadavg()[0]:.2f}")
    if befores:
        b = statistics.median(r.seconds for r in befores)
        cpu = [statistics.median(r.cpu for r in runs) for runs in (befores, verifies, floors)]
        print(f"before ({args.before}): median {b:.2f} s, ratio floor/verify {f / b:.2f}, peak "
              f"{max(r.peak_mib for r in befores):.0f} MiB; CPU medians: before {cpu[0]:.2f} s, now {cpu[1]:.2f} s, "
              f"floor {cpu[2]:.2f} s")
    if ones:
        o = statistics.median(r.seconds for r in ones)
        print(f"verify in one process: median {o:.2f} s, ratio {f / o:.2f}")
    if not args.no_deep:
        deep = verify(url, "--deep")
        show("platforms audit verify --deep", deep)
        print(f"verify --deep: ratio to the median floor {f / deep.seconds:.2f}")
    as_of_bench()


if __name__ == "__main__":
    main()

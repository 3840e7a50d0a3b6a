"""Audit benchmark: verify a large log on SQLite, beside a baseline from the same run.

* **baseline**: read the same rows through the same reader (``aggregates.event_table``: one
  read-only snapshot, ``fetchmany`` batches, plain tuples) and hash each row's stored state
  bytes once with SHA-256;
* **verify**: ``audit.verify.verify_log`` as ``platforms audit verify`` runs it, split over
  one process per CPU (:mod:`audit.verify_split`): every row's chain hash recomputed from its
  stored bytes, every ``prev_hash`` link, versions without gaps, every row against its seal,
  the Merkle root of the whole log against the signed checkpoint; and the same in one process;
* **verify --deep**: the same plus every event decoded through the application's mapper.

Each measurement runs in its own freshly spawned process, so its peak memory (max RSS, of the
largest of it and the processes it forks) is its own. Also: a platform with 1,000 events rebuilt
as of versions spread over its life.

The generated store (real platforms as templates, cloned into many correctly chained streams)
is cached under var/bench/ and reused; ``--events`` picks the size, ``--fresh`` regenerates.

    python bench/bench_audit.py [--events 1000000] [--fresh] [--no-deep] [--repeat 1]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import shutil
import sqlite3
import statistics
import sys
import time
import uuid
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


def _measure(name: str, url: str, out) -> None:  # noqa: ANN001
    target = {"baseline": baseline, "verify": verify, "one": verify_one, "deep": verify_deep}[name]
    app = _app(url)
    start = time.perf_counter()
    count = target(app)
    elapsed = time.perf_counter() - start
    # the largest of this process and the pool processes a split verify forks
    peak = max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    out.put((count, elapsed, peak / 1024))


def baseline(app) -> int:  # noqa: ANN001
    import hashlib

    from aggregates.event_table import event_table

    sha256 = hashlib.sha256
    n = 0
    with event_table(app).snapshot() as snapshot:
        for rows in snapshot.rows():
            for _pos, _oid, _ver, _topic, state in rows:
                sha256(state).digest()
            n += len(rows)
    return n


def verify(app, workers: int | None = None) -> int:  # noqa: ANN001
    from audit.verify import verify_log

    report = verify_log(app, workers=workers, public_key_pem=KEYS.pinned_public_key())
    assert report.ok and report.checkpoints_checked, report.to_dict()
    return report.events_checked


def verify_one(app) -> int:  # noqa: ANN001
    return verify(app, workers=1)


def verify_deep(app) -> int:  # noqa: ANN001
    from audit.verify import verify_log

    report = verify_log(app, deep=True, public_key_pem=KEYS.pinned_public_key())
    assert report.ok, report.to_dict()
    return report.events_checked


def run(name: str, label: str, url: str) -> tuple[int, float, float]:
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_measure, args=(name, url, q))
    p.start()
    count, elapsed, rss = q.get()
    p.join()
    print(f"{label:<30} {count:>9,} events {elapsed:7.2f} s {count / elapsed:>10,.0f} events/s  "
          f"peak RSS {rss:6.0f} MiB")
    return count, elapsed, rss


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
    parser.add_argument("--repeat", type=int, default=1, help="alternate baseline and verify this many times")
    args = parser.parse_args()
    url = prepare(args.events, args.fresh)
    base_rates, ver_rates, one_rates = [], [], []
    for _ in range(args.repeat):
        base = run("baseline", "baseline (read + SHA-256 once)", url)
        full = run("verify", f"verify ({os.cpu_count()} processes)", url)
        one = run("one", "verify (one process)", url)
        base_rates.append(base[0] / base[1])
        ver_rates.append(full[0] / full[1])
        one_rates.append(one[0] / one[1])
    b, v = max(base_rates), max(ver_rates)
    # Each verify run is compared with the baseline run just before it (same machine load).
    ratios = [vr / br for vr, br in zip(ver_rates, base_rates, strict=True)]
    print(f"verify: best {v:,.0f} events/s (target >= 200,000); ratio to the adjacent baseline run "
          f"{', '.join(f'{r:.2f}' for r in ratios)} (median {statistics.median(ratios):.2f}, target >= 0.5); "
          f"best baseline {b:,.0f} events/s; in one process: best {max(one_rates):,.0f} events/s, ratio "
          f"{', '.join(f'{o / br:.2f}' for o, br in zip(one_rates, base_rates, strict=True))}")
    if not args.no_deep:
        deep = run("deep", "verify --deep", url)
        print(f"verify --deep: {deep[0] / deep[1]:,.0f} events/s, {deep[0] / deep[1] / b:.2f} of the baseline")
    as_of_bench()


if __name__ == "__main__":
    main()

"""Audit benchmark: verify a large log on SQLite, beside a baseline from the same run.

Baseline: read the same rows and hash their stored bytes once with SHA-256. Then the verifier,
anchored (default: Merkle root of every row + versions + checkpoint; chains after the latest
checkpoint) and deep (chain hash recomputed for every event). Each measurement runs in its own
process so its peak memory (max RSS) is its own. Also: a platform with 1,000 events rebuilt as of
versions spread over its life.

    python bench/bench_audit.py [--events 1000000] [--db PATH]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing as mp
import os
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))
os.environ.setdefault("EVENTSOURCING_DISABLE_REDEFINITION_CHECK", "y")
NOW = "2024-01-05T03:00:00+00:00"


def _app(url: str):  # noqa: ANN202
    from aggregates.application import RegistryApp
    from aggregates.store import StoreConfig

    return RegistryApp(StoreConfig(url))


def generate(url: str, events: int) -> None:
    """Real platforms as templates, cloned into many correctly chained synthetic streams."""
    from freezegun import freeze_time

    from audit.canonical import EventCanonicaliser
    from audit.rows import StoredRow, iter_rows
    from scenario import Driver

    with freeze_time(NOW):
        app = _app(url)
        Driver(app, subfield="智能芯片").to("funded")
    template = [r for r in iter_rows(app) if r.originator_id == str(next(iter_rows(app)).originator_id)]
    canon = EventCanonicaliser(app)
    path = app.store.sqlite_path
    app.close()
    conn = sqlite3.connect(path)
    batch: list[tuple] = []
    done = len(template) + 3  # the template platform's stream, its batch and its seat
    while done < events:
        oid = uuid.uuid4()
        prev = "0" * 64
        for t in template[: events - done]:
            state = json.loads(t.state)
            state["prev_hash"] = prev
            data = json.dumps(state, ensure_ascii=False, separators=(",", ":")).encode()
            prev = canon.hash(StoredRow(0, str(oid), t.version, t.topic, data))
            batch.append((oid.hex, t.version, t.topic, data))
            done += 1
        if len(batch) >= 20000:
            with conn:
                conn.executemany("INSERT INTO stored_events VALUES (?,?,?,?)", batch)
            batch = []
    with conn:
        conn.executemany("INSERT INTO stored_events VALUES (?,?,?,?)", batch)
    conn.close()


def _measure(target, url: str, out) -> None:  # noqa: ANN001
    start = time.perf_counter()
    count = target(url)
    elapsed = time.perf_counter() - start
    out.put((count, elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))


def baseline(url: str) -> int:
    from aggregates.store import StoreConfig

    conn = sqlite3.connect(f"file:{StoreConfig(url).sqlite_path}?mode=ro", uri=True)
    n = 0
    cur = conn.execute("SELECT rowid, originator_id, originator_version, topic, state FROM stored_events ORDER BY rowid")
    while True:
        rows = cur.fetchmany(5000)
        if not rows:
            break
        for row in rows:
            hashlib.sha256(row[4]).digest()
            n += 1
    return n


def verify_anchored(url: str) -> int:
    from audit.verify import verify_log

    report = verify_log(_app(url))
    assert report.ok, report.to_dict()
    return report.events_checked


def verify_deep(url: str) -> int:
    from audit.verify import verify_log

    report = verify_log(_app(url), deep=True)
    assert report.ok, report.to_dict()
    return report.events_checked


def run(name: str, target, url: str) -> tuple[int, float, float]:  # noqa: ANN001
    q: mp.Queue = mp.Queue()
    p = mp.get_context("fork").Process(target=_measure, args=(target, url, q))
    p.start()
    result = q.get()
    p.join()
    count, elapsed, rss = result
    print(f"{name:<28} {count:>9} events {elapsed:7.2f} s {count / elapsed:>10,.0f} events/s  peak RSS {rss:6.0f} MiB")
    return result


def as_of_bench(url: str) -> None:
    from freezegun import freeze_time

    from aggregates.values import ChangeKind, Role
    from audit.timetravel import as_of_version
    from scenario import Driver, act

    with freeze_time(NOW):
        app = _app(url)
        d = Driver(app, subfield="智能算力").to("under_construction")
        v = app.get_platform(d.pid).version
        while v < 1000:
            r = app.report_change(d.pid, act(Role.APPLICANT, "2023-01-02"), kind=ChangeKind.GOALS,
                                  description="调整", new_value=f"目标{v}")
            app.decide_change(d.pid, r.extra["change_id"], act(Role.BUREAU, "2023-01-02"), approved=True, reasons="同意")
            v = app.get_platform(d.pid).version
    times = []
    for n in list(range(1, v + 1, 37)) + [v]:
        t = time.perf_counter()
        as_of_version(app, d.pid, n)
        times.append((time.perf_counter() - t) * 1000)
    print(f"as_of_version on a {v}-event platform: median {statistics.median(times):.2f} ms, "
          f"max {max(times):.2f} ms over {len(times)} versions (target < 20 ms)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--db", default=None)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp()
    os.environ["PLATFORMS_CHECKPOINT_KEY"] = f"{tmp}/cp.pem"
    url = f"sqlite:///{args.db or tmp + '/bench.sqlite3'}"
    t = time.perf_counter()
    generate(url, args.events)
    print(f"generated {args.events} chained events in {time.perf_counter() - t:.1f} s")
    from audit.checkpoints import sign_checkpoint
    from audit.keys import load_signer

    sign_checkpoint(_app(url), load_signer())  # the anchored verifier checks against it
    base = run("baseline (read + SHA-256)", baseline, url)
    anchored = run("verify (anchored)", verify_anchored, url)
    deep = run("verify --deep", verify_deep, url)
    for name, r in (("anchored", anchored), ("deep", deep)):
        ratio = (r[0] / r[1]) / (base[0] / base[1])
        print(f"{name}: {ratio:.2f} of the baseline (target >= 0.5), {r[0] / r[1]:,.0f} events/s (target >= 100,000)")
    as_of_bench(f"sqlite:///{tmp}/asof.sqlite3")


if __name__ == "__main__":
    main()

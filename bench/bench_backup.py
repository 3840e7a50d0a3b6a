"""Backup benchmark: ``platforms backup``'s copy of a SQLite store while another process writes,
beside baselines from the same run.

* **writer alone** (baseline): a separate process records applications through the
  application (one command, one event, one transaction each) for ``--seconds``; commands/s;
* **writer during backups**: the same while this process takes backups back to back
  (:func:`audit.backup.sqlite_store.copy_events`: the online backup API in steps inside one held read
  transaction); the writer's commands/s, each backup's time and MB/s, and each copy checked to
  hold exactly the events of its manifest head;
* **backup alone**: the same copy with no writer (the copy's own baseline);
* **steps without the held transaction**: ``Connection.backup`` in the same steps from a
  connection with no read transaction of its own, as the library documents it, under the same
  writer: SQLite restarts such a backup whenever another connection writes, so it is capped
  at ``--seconds`` and its restarts counted.

The store is bench_audit's generated one (cached under var/bench/), copied afresh for the run.

    python bench/bench_backup.py [--events 200000] [--seconds 8]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("EVENTSOURCING_DISABLE_REDEFINITION_CHECK", "y")

from bench_audit import CACHE, prepare  # noqa: E402 - bench/ on the path just set


def _writer(url: str, ready, stop, counted) -> None:  # noqa: ANN001 - multiprocessing's proxies
    from aggregates.application import RegistryApp
    from aggregates.programme import Programme
    from aggregates.store import StoreConfig

    app = RegistryApp(StoreConfig(url))
    programme = Programme(app)
    programme.apply()  # connections open, caches warm
    ready.set()
    n, start = 0, time.perf_counter()
    while not stop.is_set():
        programme.apply()
        n += 1
    counted.put((n, time.perf_counter() - start))
    app.close()


class Writer:
    def __init__(self, url: str) -> None:
        ctx = mp.get_context("spawn")
        self.ready, self.stop, self.counted = ctx.Event(), ctx.Event(), ctx.Queue()
        self.proc = ctx.Process(target=_writer, args=(url, self.ready, self.stop, self.counted))

    def __enter__(self) -> Writer:
        self.proc.start()
        if not self.ready.wait(120):  # the process started and wrote its first command
            raise SystemExit("the writer process did not start")
        return self

    def rate(self) -> float:
        self.stop.set()
        n, seconds = self.counted.get(timeout=60)
        self.proc.join(timeout=60)
        return n / seconds

    def __exit__(self, *exc: object) -> None:
        if self.proc.is_alive():
            self.stop.set()
            self.proc.join(timeout=60)


def backups(url: str, seconds: float, scratch: Path) -> list[tuple[float, float, int]]:
    """Backups back to back for ``seconds``: (seconds, MB/s, events) each, each copy checked."""
    from aggregates.store import StoreConfig
    from audit.backup.sqlite_store import copy_events

    done = []
    until = time.perf_counter() + seconds
    while time.perf_counter() < until or not done:
        dest = scratch / f"copy-{len(done)}.sqlite3"
        t = time.perf_counter()
        head = copy_events(StoreConfig(url), dest)
        took = time.perf_counter() - t
        conn = sqlite3.connect(dest)
        count, top = conn.execute("SELECT COUNT(*), MAX(rowid) FROM stored_events").fetchone()
        conn.close()
        assert (count, top) == (head.events, head.position), "a copy differs from its head"
        done.append((took, dest.stat().st_size / took / 1e6, head.events))
        dest.unlink()
    return done


def without_held_transaction(path: Path, seconds: float, scratch: Path) -> tuple[str, int]:
    """The library's stepwise backup from a connection with no read transaction of its own."""
    from audit.backup.sqlite_store import PAGES_PER_STEP, STEP_PAUSE

    restarts, last, start = 0, None, time.perf_counter()

    class Capped(Exception):
        pass

    def progress(_status: int, remaining: int, _total: int) -> None:
        nonlocal restarts, last
        if last is not None and remaining > last:
            restarts += 1
        last = remaining
        if time.perf_counter() - start > seconds:
            raise Capped

    source = sqlite3.connect(path)
    target = sqlite3.connect(scratch / "plain.sqlite3")
    try:
        source.backup(target, pages=PAGES_PER_STEP, progress=progress, sleep=STEP_PAUSE)
        outcome = f"finished in {time.perf_counter() - start:.2f} s"
    except Capped:
        outcome = f"unfinished after {seconds:.0f} s"
    finally:
        target.close()
        source.close()
    return outcome, restarts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--seconds", type=float, default=8.0)
    args = parser.parse_args()
    cached = Path(prepare(args.events, fresh=False).split(":///", 1)[1])  # a URL
    with tempfile.TemporaryDirectory(prefix="bench-backup-", dir=CACHE) as tmp:
        scratch = Path(tmp)
        path = scratch / "store.sqlite3"
        shutil.copyfile(cached, path)
        url = f"sqlite:///{path}"
        from aggregates.migrations import migrate
        from aggregates.store import StoreConfig

        migrate(StoreConfig(url))
        size = path.stat().st_size / 1e6
        uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
        print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {uptime}")
        print(f"store: {args.events:,} events, {size:.0f} MB")

        with Writer(url) as w:
            time.sleep(args.seconds)
            alone = w.rate()
        print(f"writer alone (baseline): {alone:,.0f} commands/s")

        with Writer(url) as w:
            during = backups(url, args.seconds, scratch)
            loaded = w.rate()
        times = [t for t, _, _ in during]
        print(f"writer during backups: {loaded:,.0f} commands/s ({loaded / alone:.2f} of alone); "
              f"{len(during)} backups, each {min(times):.2f}–{max(times):.2f} s "
              f"(median {statistics.median(times):.2f} s, {statistics.median(r for _, r, _ in during):,.0f} MB/s), "
              f"events {during[0][2]:,}–{during[-1][2]:,}, every copy exactly its head")

        quiet = backups(url, 0, scratch)
        print(f"backup alone (baseline): {quiet[0][0]:.2f} s, {quiet[0][1]:,.0f} MB/s")

        with Writer(url) as w:
            outcome, restarts = without_held_transaction(path, args.seconds, scratch)
            w.rate()
        print(f"steps without the held read transaction, same writer: {outcome}, {restarts} restarts")


if __name__ == "__main__":
    main()

"""Write-ahead-log checkpoints of the SQLite files, off the commit path (SQLite's WAL checkpoint;
nothing to do with the audit's signed checkpoints).

In WAL mode SQLite copies the log back into the database file from inside the commit that takes
the log past 1,000 pages. That commit waits for the copy and an fsync of the database file, a few
hundred milliseconds on a large store, and on SQLite every command queued behind the one writer
waits with it: under load these pauses were the command latency tail. A thread here checkpoints
each file twice a second instead, in ``PASSIVE`` mode, which never blocks a writer or a reader
and copies only what no reader still needs. The log is then emptied long before a commit would
have to. Should the thread fail, SQLite's own checkpoint in the commit still happens: nothing
depends on this one for correctness.
"""

from __future__ import annotations

import logging
import sqlite3
import threading

log = logging.getLogger(__name__)


class WalCheckpointer:
    """Checkpoints ``paths`` (SQLite files in WAL mode) every ``interval`` seconds."""

    def __init__(self, paths: list[str], interval: float = 0.5) -> None:
        self.paths = [p for p in paths if p and p != ":memory:" and not p.startswith("file:")]
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.rounds = 0

    def start(self) -> None:
        if self._thread is not None or not self.paths:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="sqlite-wal-checkpointer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def checkpoint(self, conns: dict[str, sqlite3.Connection]) -> None:
        """One round over every file."""
        for path, conn in conns.items():
            try:
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            except sqlite3.Error:
                log.warning("WAL checkpoint of %s failed; SQLite will checkpoint in a commit", path,
                            exc_info=True)
        self.rounds += 1

    def _run(self) -> None:
        conns = {p: sqlite3.connect(p, timeout=5, isolation_level=None, check_same_thread=False)
                 for p in self.paths}
        try:
            while not self._stop.wait(self.interval):
                self.checkpoint(conns)
        finally:
            for conn in conns.values():
                conn.close()

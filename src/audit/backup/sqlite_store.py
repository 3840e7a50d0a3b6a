"""A SQLite store's events copied online, and put back.

The event file (``platforms.sqlite3``) holds the events, snapshots, the log seal and every table
kept with them; the read models are in a file of their own and are not copied. The copy is
SQLite's online backup API (``sqlite3.Connection.backup``) run from a connection that first
opens a read transaction and holds it to the end: in WAL mode that reader sees one snapshot
while writers go on appending to the WAL, so the copy is consistent, taken in steps (progress
between them) and never restarted by a write, which it would be from a connection without
that transaction. The head and the last checkpoint are read in the same transaction.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from aggregates.event_table import read_model_path
from aggregates.existing_store import events_table
from aggregates.store import StoreConfig
from audit.tables import CHECKPOINTS

from .manifest import PRIVATE_FILE, BackupRefused, LogHead

__all__ = ["check_empty", "copy_events", "put_back"]

PAGES_PER_STEP = 1024  # 4 MiB with the default page size: a step is short, progress is frequent
STEP_PAUSE = 0.001  # seconds between steps (the library's default, 0.25 s, would only make a backup slower)
Progress = Callable[[int, int], None]


def _read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, isolation_level=None, timeout=30)


def copy_events(store: StoreConfig, dest: Path, progress: Progress | None = None) -> LogHead:
    """Copy ``store``'s event file to ``dest`` (created 0600) as of one instant; the log's head
    and last checkpoint at that instant."""
    source = _read_only(Path(store.sqlite_path).resolve())
    try:
        source.execute("BEGIN")  # the snapshot: it starts at the first read and holds until COMMIT
        table = events_table(store)
        count, top = source.execute(f"SELECT COUNT(*), COALESCE(MAX(rowid), 0) FROM {table}").fetchone()  # noqa: S608 - a fixed name
        checkpoint = _last_checkpoint(source)
        fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
        os.close(fd)
        target = sqlite3.connect(dest)
        try:
            source.backup(target, pages=PAGES_PER_STEP, sleep=STEP_PAUSE,
                          progress=None if progress is None else lambda _s, left, total: progress(total - left, total))
        finally:
            target.close()
        source.execute("COMMIT")
    finally:
        source.close()
    return LogHead(int(top), int(count), *checkpoint)


def _last_checkpoint(conn: sqlite3.Connection) -> tuple[int | None, str | None]:
    try:
        row = conn.execute(f"SELECT size, root FROM {CHECKPOINTS} ORDER BY id DESC LIMIT 1").fetchone()  # noqa: S608 - a fixed name
    except sqlite3.OperationalError:  # a store never migrated: no checkpoint table, no checkpoint
        return None, None
    return (int(row[0]), str(row[1])) if row else (None, None)


def _companions(path: Path) -> list[Path]:
    return [path.with_name(path.name + suffix) for suffix in ("-wal", "-journal")]


def check_empty(store: StoreConfig) -> None:
    """Refuse unless ``store``'s event file and read-model file are absent or hold no table (a
    WAL or journal left beside an absent file would be replayed into the restored one)."""
    events = Path(store.sqlite_path).resolve()
    for path in (events, Path(read_model_path(str(events)))):
        for companion in _companions(path):
            if companion.exists() and companion.stat().st_size > 0:
                raise BackupRefused(f"the target store is not empty: {companion} exists "
                                    f"({store.label}); restore into an empty store")
        if not path.exists() or path.stat().st_size == 0:
            continue
        try:
            conn = _read_only(path)
            try:
                tables = [name for (name,) in conn.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
            finally:
                conn.close()
        except sqlite3.Error as exc:
            raise BackupRefused(f"the target store {path} is not an empty SQLite file ({exc}); "
                                "restore into an empty store") from None
        if tables:
            raise BackupRefused(f"the target store is not empty: {path} holds {len(tables)} tables "
                                f"({', '.join(tables[:3])}…) ({store.label}); restore into an empty store")


def put_back(copy: Path, store: StoreConfig) -> Path:
    """Put the event file ``copy`` in place for ``store`` (0600): written beside it under a
    temporary name, flushed, then renamed, so the store is either absent or whole."""
    target = Path(store.sqlite_path).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".restoring")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    try:
        with os.fdopen(fd, "wb") as out, open(copy, "rb") as src:
            shutil.copyfileobj(src, out, 1 << 20)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return target

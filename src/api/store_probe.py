"""Whether the event store takes a write, for ``/readyz``.

A store that answers reads but refuses writes (a read-only file or filesystem, an immutable
file, a standby PostgreSQL, a full disk) would otherwise report ready while every command
fails. The probe commits one row of its own table, ``store_write_probe``, in the event store's
database: on SQLite after asking the system whether the files can be opened for writing now (a
connection opened earlier may still write to a file no new connection could), through a
connection opened for the probe; on PostgreSQL through the read models' engine (the same database and schema).
A SQLite store busy with another writer is writable, and is reported so. The migrations create
the table (:mod:`aggregates.migrations`), as :data:`probe_table` declares it.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa

PROBE_TABLE = "store_write_probe"
METADATA = sa.MetaData()
probe_table = sa.Table(PROBE_TABLE, METADATA, sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
                       sa.Column("at", sa.Text))
BUSY_TIMEOUT_S = 1.0


def store_write_error(container: Any) -> str | None:
    """None when a write to the event store commits, else why it did not (one line)."""
    now = datetime.now(UTC).isoformat()
    try:
        store = container.app.store
        if store.is_sqlite:
            _probe_sqlite(store.sqlite_path, now)
        elif store.is_postgres:
            with container.engine.begin() as conn:
                conn.execute(sa.text(f"INSERT INTO {PROBE_TABLE} VALUES (1, :at) "  # noqa: S608 - fixed names
                                     "ON CONFLICT (id) DO UPDATE SET at = excluded.at"), {"at": now})
    except Exception as exc:  # noqa: BLE001 - any refusal to write is the answer
        return f"{exc.__class__.__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    return None


def _probe_sqlite(path: str, now: str) -> None:
    # SQLite reuses a descriptor that a closed connection of this process opened for writing,
    # so a write may still succeed on a file that can no longer be opened for writing (and
    # every connection opened from now on would be read-only): ask the system first.
    for name in (path, f"{path}-wal", f"{path}-shm", os.path.dirname(os.path.abspath(path))):
        if os.path.exists(name) and not os.access(name, os.W_OK):
            raise PermissionError(f"{name} cannot be written (read-only or immutable file or filesystem)")
    conn = sqlite3.connect(f"file:{quote(path)}?mode=rw", uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(f"INSERT OR REPLACE INTO {PROBE_TABLE} VALUES (1, ?)", (now,))  # noqa: S608 - fixed names
        conn.execute("COMMIT")
    except sqlite3.OperationalError as exc:
        if "locked" not in str(exc) and "busy" not in str(exc):
            raise
    finally:
        conn.close()


__all__ = ["store_write_error", "METADATA", "PROBE_TABLE", "probe_table"]

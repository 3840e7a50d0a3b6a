"""Signed checkpoints are kept in their own table, ``audit_checkpoints``, beside the event table.

They are not events: a checkpoint is a statement *about* the log, and putting it in the log
would change the log it describes. The table lives in the same database (and PostgreSQL schema)
as the events, so a backup holds both; its rows prove nothing by themselves, only their
signatures under the pinned public key do.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from .rows import store_kind
from .signing import SignedCheckpoint

__all__ = ["TABLE", "store_checkpoint", "load_checkpoints", "latest_checkpoint"]

TABLE = "audit_checkpoints"
_COLUMNS = "id, size, root, signed_at, key_id, signature"


def _sqlite(app: Any) -> sqlite3.Connection:
    conn = sqlite3.connect(app.store.sqlite_path, timeout=30)
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS {TABLE} (id INTEGER PRIMARY KEY AUTOINCREMENT, size INTEGER NOT NULL, "
        "root TEXT NOT NULL, signed_at TEXT NOT NULL, key_id TEXT NOT NULL, signature TEXT NOT NULL)")
    return conn


def _pg_table(app: Any) -> Any:
    from psycopg.sql import SQL, Identifier

    return SQL("{}.{}").format(Identifier(app.recorder.datastore.schema), Identifier(TABLE))


def _pg_ensure(app: Any, cur: Any) -> None:
    from psycopg.sql import SQL

    cur.execute(SQL(
        "CREATE TABLE IF NOT EXISTS {} (id bigserial PRIMARY KEY, size bigint NOT NULL, root text NOT NULL, "
        "signed_at text NOT NULL, key_id text NOT NULL, signature text NOT NULL)").format(_pg_table(app)))


def store_checkpoint(app: Any, cp: SignedCheckpoint) -> int:
    """Append a signed checkpoint; returns its id."""
    values = (cp.size, cp.root_hex, cp.signed_at, cp.key_id, cp.signature_b64)
    kind = store_kind(app)
    if kind == "sqlite":
        conn = _sqlite(app)
        try:
            with conn:
                cur = conn.execute(f"INSERT INTO {TABLE} (size, root, signed_at, key_id, signature) "
                                   "VALUES (?,?,?,?,?)", values)
                return int(cur.lastrowid or 0)
        finally:
            conn.close()
    if kind == "postgres":
        from psycopg.sql import SQL

        with app.recorder.datastore.transaction(commit=True) as cur:
            _pg_ensure(app, cur)
            cur.execute(SQL("INSERT INTO {} (size, root, signed_at, key_id, signature) "
                            "VALUES (%s,%s,%s,%s,%s) RETURNING id").format(_pg_table(app)), values)
            return int(cur.fetchone()["id"])
    held = app.__dict__.setdefault("_audit_checkpoints", [])
    held.append(cp)
    return len(held)


def load_checkpoints(app: Any) -> list[tuple[int, SignedCheckpoint]]:
    """Every stored checkpoint as (id, checkpoint), oldest first. Rows are returned as stored,
    even malformed ones: judging them is the verifier's job."""
    kind = store_kind(app)
    if kind == "sqlite":
        conn = _sqlite(app)
        try:
            rows = conn.execute(f"SELECT {_COLUMNS} FROM {TABLE} ORDER BY id").fetchall()
        finally:
            conn.close()
    elif kind == "postgres":
        from psycopg.sql import SQL

        with app.recorder.datastore.transaction(commit=True) as cur:
            _pg_ensure(app, cur)
            cur.execute(SQL(f"SELECT {_COLUMNS} FROM {{}} ORDER BY id").format(_pg_table(app)))
            rows = [tuple(r.values()) for r in cur.fetchall()]
    else:
        return list(enumerate(app.__dict__.get("_audit_checkpoints", []), start=1))
    return [(int(i), SignedCheckpoint(int(size), str(root), str(at), str(kid), str(sig)))
            for i, size, root, at, kid, sig in rows]


def latest_checkpoint(app: Any) -> SignedCheckpoint | None:
    """The most recently stored checkpoint, or None."""
    stored = load_checkpoints(app)
    return stored[-1][1] if stored else None

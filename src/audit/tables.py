"""The audit's own tables beside the event table: ``audit_checkpoints`` and ``audit_cosignatures``.

They live in the same database (and PostgreSQL schema) as the events, so one backup holds the
log and every statement made about it. They are created on first use and brought up to date
on a store whose ``audit_checkpoints`` predates a column (``ADD COLUMN`` for each one missing:
``origin`` and ``note_signature`` came with the C2SP signed notes), once per application
instance, in a transaction of its own, before the first read or write.

Connections: SQLite through its own short-lived connection to the event file (as the rows
reader does); PostgreSQL through the event store's pool and transaction (dict rows).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["CHECKPOINTS", "COSIGNATURES", "postgres", "pg_table", "sqlite"]

CHECKPOINTS = "audit_checkpoints"
COSIGNATURES = "audit_cosignatures"
_READY = "_audit_tables_ready"

# Columns added after the table was first released: (table, column, type), in order.
_ADDED = [(CHECKPOINTS, "origin", "TEXT"), (CHECKPOINTS, "note_signature", "TEXT")]

_SQLITE_DDL = [
    f"CREATE TABLE IF NOT EXISTS {CHECKPOINTS} (id INTEGER PRIMARY KEY AUTOINCREMENT, size INTEGER NOT NULL, "
    "root TEXT NOT NULL, signed_at TEXT NOT NULL, key_id TEXT NOT NULL, signature TEXT NOT NULL)",
    f"CREATE TABLE IF NOT EXISTS {COSIGNATURES} (id INTEGER PRIMARY KEY AUTOINCREMENT, origin TEXT NOT NULL, "
    "size INTEGER NOT NULL, root TEXT NOT NULL, witness TEXT NOT NULL, key_name TEXT NOT NULL, "
    "key_id TEXT NOT NULL, timestamp INTEGER NOT NULL, signature TEXT NOT NULL, received_at TEXT NOT NULL, "
    "UNIQUE (origin, size, root, key_name, key_id))",
]

_PG_DDL = [
    "CREATE TABLE IF NOT EXISTS {checkpoints} (id bigserial PRIMARY KEY, size bigint NOT NULL, "
    "root text NOT NULL, signed_at text NOT NULL, key_id text NOT NULL, signature text NOT NULL)",
    "CREATE TABLE IF NOT EXISTS {cosignatures} (id bigserial PRIMARY KEY, origin text NOT NULL, "
    "size bigint NOT NULL, root text NOT NULL, witness text NOT NULL, key_name text NOT NULL, "
    "key_id text NOT NULL, timestamp bigint NOT NULL, signature text NOT NULL, received_at text NOT NULL, "
    "UNIQUE (origin, size, root, key_name, key_id))",
]


@contextmanager
def sqlite(app: Any) -> Iterator[sqlite3.Connection]:
    """A connection to the event file with the audit tables in place; closed on exit."""
    conn = sqlite3.connect(app.store.sqlite_path, timeout=30)
    try:
        if not app.__dict__.get(_READY):
            _sqlite_prepare(conn)
            app.__dict__[_READY] = True
        yield conn
    finally:
        conn.close()


def _sqlite_prepare(conn: sqlite3.Connection) -> None:
    with conn:
        for ddl in _SQLITE_DDL:
            conn.execute(ddl)
        for table, column, kind in _ADDED:
            have = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
            if column not in have:
                try:
                    conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
                except sqlite3.OperationalError as exc:  # another process added it meanwhile
                    if "duplicate column" not in str(exc):
                        raise


def pg_table(app: Any, name: str) -> Any:
    """``"schema"."name"`` for the event store's schema."""
    from psycopg.sql import SQL, Identifier

    return SQL("{}.{}").format(Identifier(app.recorder.datastore.schema), Identifier(name))


@contextmanager
def postgres(app: Any) -> Iterator[Any]:
    """A cursor (dict rows) in a committed transaction of the event store, tables in place."""
    if not app.__dict__.get(_READY):
        _pg_prepare(app)
        app.__dict__[_READY] = True
    with app.recorder.datastore.transaction(commit=True) as cur:
        yield cur


def _pg_prepare(app: Any) -> None:
    """Create and migrate in one transaction; a concurrent first use by another process can make
    the catalogue refuse one of two racing CREATE/ALTER statements, so it is tried twice (the
    second attempt finds everything in place)."""
    from eventsourcing.persistence import IntegrityError, InternalError, ProgrammingError
    from psycopg.sql import SQL

    names = {"checkpoints": pg_table(app, CHECKPOINTS), "cosignatures": pg_table(app, COSIGNATURES)}
    for attempt in (1, 2):
        try:
            with app.recorder.datastore.transaction(commit=True) as cur:
                for ddl in _PG_DDL:
                    cur.execute(SQL(ddl).format(**names))
                for table, column, kind in _ADDED:
                    cur.execute("SELECT 1 FROM information_schema.columns WHERE table_schema = %s "
                                "AND table_name = %s AND column_name = %s",
                                (app.recorder.datastore.schema, table, column))
                    if cur.fetchone() is None:
                        cur.execute(SQL("ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} " + kind).format(
                            pg_table(app, table), SQL(column)))
            return
        except (IntegrityError, InternalError, ProgrammingError):
            if attempt == 2:
                raise

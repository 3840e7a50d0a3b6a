"""The stored event rows, read straight from the event store, and their Merkle leaf encoding.

Audit reads the table the ``eventsourcing`` recorder writes, not the library's domain objects:
what is verified must be the bytes that are stored. One read transaction (SQLite) or one
REPEATABLE READ transaction with a server-side cursor (PostgreSQL) gives the verifier a
consistent snapshot of the whole log while writers carry on, and streams it in bounded memory.

Leaf encoding (documented in docs/AUDIT.md so that anyone can recompute a leaf from an export)::

    leaf = u64(position) || u32(len(id)) || id || u64(version)
           || u32(len(topic)) || topic || u32(len(state)) || state

all integers unsigned big-endian; ``id`` is the originator id as the lowercase hyphenated UUID
text in ASCII (the raw stored text if it is not a UUID); ``topic`` UTF-8; ``state`` the stored
bytes exactly (a NULL column is encoded as empty). The Merkle leaf hash is
``SHA-256(0x00 || leaf)`` (RFC 9162), computed by :func:`leaf_hash_of`.
"""

from __future__ import annotations

import hashlib
import sqlite3
import struct
from dataclasses import dataclass
from typing import Any, Iterator
from uuid import UUID

__all__ = ["StoredRow", "iter_rows", "leaf_bytes", "leaf_hash_of", "log_size", "canonical_id"]

_U64 = (1 << 64) - 1
_HEAD = struct.Struct(">QI")
_MID = struct.Struct(">QI")
_LEN = struct.Struct(">I")
_sha256 = hashlib.sha256
BATCH = 5000


@dataclass(frozen=True, slots=True)
class StoredRow:
    """One row of the event table as stored: its log position and its four columns."""

    position: int
    originator_id: str
    version: int
    topic: str
    state: bytes | None


def canonical_id(raw: Any) -> str:
    """The originator id as hyphenated lowercase UUID text; unparsable ids are kept as stored
    (they are reported by the verifier, not silently rewritten)."""
    if isinstance(raw, UUID):
        return str(raw)
    try:
        return str(UUID(str(raw)))
    except (ValueError, TypeError, AttributeError):
        return "" if raw is None else str(raw)


def leaf_bytes(row: StoredRow) -> bytes:
    """The canonical encoding of one stored row (see the module docstring)."""
    oid = row.originator_id.encode("ascii", "backslashreplace")
    topic = (row.topic or "").encode("utf-8", "surrogatepass")
    state = row.state or b""
    return b"".join((
        _HEAD.pack(row.position & _U64, len(oid)), oid,
        _MID.pack((row.version or 0) & _U64, len(topic)), topic,
        _LEN.pack(len(state)), state,
    ))


def leaf_hash_of(row: StoredRow) -> bytes:
    """RFC 9162 leaf hash of a stored row: SHA-256(0x00 || leaf_bytes(row))."""
    return _sha256(b"\x00" + leaf_bytes(row)).digest()


def _backend(app: Any) -> str:
    store = getattr(app, "store", None)
    if store is not None and store.is_sqlite and store.sqlite_path != ":memory:":
        return "sqlite"
    if store is not None and store.is_postgres:
        return "postgres"
    return "generic"


def iter_rows(app: Any, after: int = 0, upto: int | None = None, limit: int | None = None) -> Iterator[StoredRow]:
    """Every stored event row with ``after < position <= upto`` in log order (at most ``limit``),
    read in one consistent snapshot."""
    kind = _backend(app)
    if kind == "sqlite":
        yield from _sqlite_rows(app, after, upto, limit)
    elif kind == "postgres":
        yield from _postgres_rows(app, after, upto, limit)
    else:
        yield from _generic_rows(app, after, upto, limit)


def _where(after: int, upto: int | None, limit: int | None, col: str, ph: str) -> tuple[str, list[int]]:
    sql, params = f" WHERE {col} > {ph}", [after]
    if upto is not None:
        sql += f" AND {col} <= {ph}"
        params.append(upto)
    sql += f" ORDER BY {col}"
    if limit is not None:
        sql += f" LIMIT {ph}"
        params.append(limit)
    return sql, params


def _sqlite_rows(app: Any, after: int, upto: int | None, limit: int | None) -> Iterator[StoredRow]:
    # Our own read-only connection with plain tuples: the library's pool uses sqlite3.Row, which
    # costs more per row than the whole SHA-256 of a leaf.
    table = app.recorder.events_table_name
    conn = sqlite3.connect(f"file:{app.store.sqlite_path}?mode=ro", uri=True, timeout=30)
    try:
        conn.execute("BEGIN")  # one snapshot for the whole scan (WAL readers do not block writers)
        where, params = _where(after, upto, limit, "rowid", "?")
        cur = conn.execute(
            f"SELECT rowid, originator_id, originator_version, topic, state FROM {table}{where}", params)
        while True:
            batch = cur.fetchmany(BATCH)
            if not batch:
                break
            for pos, oid, ver, topic, state in batch:
                yield StoredRow(pos, canonical_id(oid), ver, topic, _as_bytes(state))
    finally:
        conn.close()


def _postgres_rows(app: Any, after: int, upto: int | None, limit: int | None) -> Iterator[StoredRow]:
    from psycopg.rows import tuple_row
    from psycopg.sql import SQL, Identifier

    datastore = app.recorder.datastore
    where, params = _where(after, upto, limit, "notification_id", "%s")
    query = SQL("SELECT notification_id, originator_id, originator_version, topic, state FROM {}.{}").format(
        Identifier(datastore.schema), Identifier(app.recorder.events_table_name)) + SQL(where)  # type: ignore[operator]
    with datastore.get_connection() as conn:
        with conn.transaction(force_rollback=True):
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            with conn.cursor(name="audit_scan", row_factory=tuple_row) as cur:
                cur.itersize = BATCH
                cur.execute(query, params)
                for pos, oid, ver, topic, state in cur:
                    yield StoredRow(pos, canonical_id(oid), ver, topic, _as_bytes(state))


def _generic_rows(app: Any, after: int, upto: int | None, limit: int | None) -> Iterator[StoredRow]:
    # In-memory stores (tests, demos): the notification log API is all there is.
    start, seen = after, 0
    while True:
        batch = app.recorder.select_notifications(start, BATCH, stop=upto, inclusive_of_start=False)
        for n in batch:
            if limit is not None and seen >= limit:
                return
            seen += 1
            yield StoredRow(n.id, canonical_id(n.originator_id), n.originator_version, n.topic, _as_bytes(n.state))
        if len(batch) < BATCH:
            return
        start = batch[-1].id


def _as_bytes(state: Any) -> bytes | None:
    if state is None or isinstance(state, bytes):
        return state
    if isinstance(state, str):
        return state.encode("utf-8", "surrogatepass")
    return bytes(state)


def log_size(app: Any) -> tuple[int, int]:
    """(number of stored events, highest position) of the log now."""
    kind = _backend(app)
    table = app.recorder.events_table_name
    if kind == "sqlite":
        conn = sqlite3.connect(f"file:{app.store.sqlite_path}?mode=ro", uri=True, timeout=30)
        try:
            count, top = conn.execute(f"SELECT COUNT(*), COALESCE(MAX(rowid), 0) FROM {table}").fetchone()
        finally:
            conn.close()
        return int(count), int(top)
    if kind == "postgres":
        from psycopg.rows import tuple_row
        from psycopg.sql import SQL, Identifier

        datastore = app.recorder.datastore
        with datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as cur:
            cur.execute(SQL("SELECT COUNT(*), COALESCE(MAX(notification_id), 0) FROM {}.{}").format(
                Identifier(datastore.schema), Identifier(table)))
            count, top = cur.fetchone()  # type: ignore[misc]
        return int(count), int(top)
    count = top = 0
    for row in _generic_rows(app, 0, None, None):
        count, top = count + 1, row.position
    return count, top


def stream_rows(app: Any, originator_id: UUID) -> list[StoredRow]:
    """The stored rows of one stream, in version order, with their log positions."""
    kind = _backend(app)
    table = app.recorder.events_table_name
    if kind == "sqlite":
        conn = sqlite3.connect(f"file:{app.store.sqlite_path}?mode=ro", uri=True, timeout=30)
        try:
            rows = conn.execute(
                f"SELECT rowid, originator_id, originator_version, topic, state FROM {table} "
                "WHERE originator_id IN (?, ?) ORDER BY originator_version",
                (originator_id.hex, str(originator_id))).fetchall()
        finally:
            conn.close()
    elif kind == "postgres":
        from psycopg.rows import tuple_row
        from psycopg.sql import SQL, Identifier

        datastore = app.recorder.datastore
        with datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as cur:
            cur.execute(SQL("SELECT notification_id, originator_id, originator_version, topic, state FROM {}.{} "
                            "WHERE originator_id = %s ORDER BY originator_version").format(
                Identifier(datastore.schema), Identifier(table)), (originator_id,))
            rows = cur.fetchall()
    else:
        wanted = str(originator_id)
        return [r for r in _generic_rows(app, 0, None, None) if r.originator_id == wanted]
    return [StoredRow(p, canonical_id(o), v, t, _as_bytes(s)) for p, o, v, t, s in rows]

"""The stored event rows, read straight from the event store, their chain hash and their Merkle
leaf.

Audit reads the table the ``eventsourcing`` recorder writes, not the library's domain objects:
what is verified must be the bytes that are stored. One read transaction (SQLite) or one
REPEATABLE READ transaction with a server-side cursor (PostgreSQL) gives the verifier a
consistent snapshot of the whole log while writers carry on, and streams it in bounded memory.

Rows come in two shapes:

* **raw** (:func:`iter_raw_batches`, the verifier's hot path): lists of tuples
  ``(position, id, version, topic, state)`` with ``id`` and ``topic`` as *bytes* and ``state``
  the stored bytes. ``id`` is the originator id as 32 lowercase hex digits: exactly the text the
  SQLite store keeps (read as bytes, never parsed, never decoded: a tampered column that is not
  UTF-8 cannot crash the reader), and on PostgreSQL the ``uuid`` column rendered as hex by the
  server. A NULL column comes back as ``None``;
* :class:`StoredRow` (history, time travel, tests): the same with text fields and the id as
  hyphenated UUID text.

Chain hash (:mod:`aggregates.hashing`; recomputed here without parsing anything), which is
also the row's Merkle leaf hash (RFC 9162: leaf = the row's bytes, leaf hash = SHA-256 of a
zero byte and the leaf; documented in docs/AUDIT.md so that anyone can recompute it)::

    chain_hash = leaf_hash = SHA-256(0x00 topic "\\n" id-hex "\\n" version-decimal "\\n" state)

It commits to the topic, id, version and every stored byte of the state; the tree over the
leaves, in log order, commits to each row's place in the log.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import Any
from uuid import UUID

from aggregates.log_seal import TABLE as SEAL_TABLE

__all__ = ["StoredRow", "iter_rows", "iter_raw_batches", "log_snapshot", "chain_digest", "leaf_hash_of",
           "log_size", "sealed_size", "seal_layout", "SealLayout", "recorded_at", "PREV_HASH_KEY", "ID_HEX",
           "stream_rows", "id_text", "BATCH"]

_sha256 = hashlib.sha256
BATCH = 20000
# How the transcoder writes an event's prev_hash (compact JSON, the first occurrence of the key,
# near the start), and a stream id as the chain hash spells it.
PREV_HASH_KEY = b'"prev_hash":"'
ID_HEX = re.compile(rb"[0-9a-f]{32}")
_SEAL_COLUMNS = "seq, first_index, first_position, count, leaves, streams"


@dataclass(frozen=True, slots=True)
class StoredRow:
    """One row of the event table as stored: its log position and its four columns."""

    position: int
    originator_id: str  # hyphenated UUID text (the stored text if it is not a UUID)
    version: int
    topic: str
    state: bytes | None
    id_hex: bytes = b""  # the id as the chain hash spells it (see the module docstring)

    @classmethod
    def from_raw(cls, raw: tuple[Any, ...]) -> StoredRow:
        pos, oid, ver, topic, state = raw
        oid = _as_bytes(oid) or b""
        return cls(pos, id_text(oid), ver, _text(topic), _as_bytes(state), oid)

    def chain_hash(self) -> bytes:
        return chain_digest(self.topic, self.id_hex, self.version, self.state)


def id_text(oid: bytes) -> str:
    """Hyphenated UUID text of a raw id (for reports); the raw text if it is not 32 hex digits."""
    text = oid.decode("utf-8", "backslashreplace")
    try:
        return str(UUID(hex=text)) if len(text) == 32 else text
    except ValueError:
        return text


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogateescape")
    return "" if value is None else str(value)


def _as_bytes(value: Any) -> bytes | None:
    if value is None or isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape")
    if isinstance(value, int):
        return str(value).encode()
    return bytes(value)


def chain_digest(topic: Any, oid: Any, version: Any, state: Any) -> bytes:
    """The raw 32-byte chain hash of a stored row, whatever the columns hold: text or bytes,
    ``None`` taken as empty (a malformed row then simply fails to chain)."""
    t = _as_bytes(topic) or b""
    o = oid.hex.encode() if isinstance(oid, UUID) else (_as_bytes(oid) or b"")
    v = str(version).encode() if isinstance(version, int) else (_as_bytes(version) or b"")
    return _sha256(b"\x00%b\n%b\n%b\n%b" % (t, o, v, _as_bytes(state) or b"")).digest()


def recorded_at(state: bytes) -> datetime | None:
    """When a stored event says it was recorded (its ``timestamp``), None if that cannot be read
    as an aware instant."""
    try:
        stamp = json.loads(state)["timestamp"]
        when = datetime.fromisoformat(stamp["_data_"] if isinstance(stamp, dict) else stamp)
    except Exception:  # noqa: BLE001 - an unreadable timestamp is for other checks to report
        return None
    return when if when.tzinfo is not None else None  # the application only writes aware instants


def leaf_hash_of(row: StoredRow) -> bytes:
    """The Merkle leaf hash of a stored row: its chain hash, which is already RFC 9162's
    ``SHA-256(0x00 || row bytes)``."""
    return row.chain_hash()


def store_kind(app: Any) -> str:
    """Which store ``app`` writes to: ``sqlite`` (a file), ``postgres``, or ``generic`` (memory)."""
    store = getattr(app, "store", None)
    if store is not None and store.is_sqlite and store.sqlite_path != ":memory:":
        return "sqlite"
    if store is not None and store.is_postgres:
        return "postgres"
    return "generic"


def iter_raw_batches(app: Any, after: int = 0, upto: int | None = None, limit: int | None = None,
                     batch: int = BATCH, seals: list[Any] | None = None,
                     seal_seqs: tuple[int, int] | None = None) -> Generator[list[tuple[Any, ...]], None, None]:
    """Raw rows with ``after < position <= upto`` in log order (at most ``limit``), in lists of
    up to ``batch``, read in one consistent snapshot.

    ``seals``: a list to which, before the first batch, an iterator over the log seal's rows
    (:mod:`aggregates.log_seal`: ``seq, first_index, first_position, count, leaves, streams``,
    in ``seq`` order) read in the same snapshot is appended; ``None`` is appended where the store
    has no seal table (an in-memory store, or a store the sealing code never opened).
    ``seal_seqs``: only the seal rows with ``lo <= seq <= hi`` (one part of a split scan)."""
    kind = store_kind(app)
    if kind == "sqlite":
        yield from _sqlite_batches(app, after, upto, limit, batch, seals, seal_seqs)
    elif kind == "postgres":
        yield from _postgres_batches(app, after, upto, limit, batch, seals, seal_seqs)
    else:
        if seals is not None:
            seals.append(None)
        yield from _generic_batches(app, after, upto, limit, batch)


def iter_rows(app: Any, after: int = 0, upto: int | None = None, limit: int | None = None) -> Iterator[StoredRow]:
    """Every stored event row with ``after < position <= upto`` in log order (at most ``limit``)."""
    from_raw = StoredRow.from_raw
    for rows in iter_raw_batches(app, after, upto, limit, 5000):
        for raw in rows:
            yield from_raw(raw)


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


def _sqlite_connect(app: Any, any_thread: bool = False) -> sqlite3.Connection:
    # Our own read-only connection returning plain tuples with text as bytes: the library's pool
    # uses sqlite3.Row, and decoding text would cost time and could fail on a tampered column.
    # ``any_thread``: a streamed HTTP response reads each chunk on whichever worker thread is free
    # (one at a time, never concurrently), which sqlite3 refuses unless told.
    conn = sqlite3.connect(f"file:{app.store.sqlite_path}?mode=ro", uri=True, timeout=30,
                           check_same_thread=not any_thread)
    conn.text_factory = bytes
    return conn


def _fetched(fetch: Callable[[int], list[Any]], batch: int) -> Iterator[list[tuple[Any, ...]]]:
    """A cursor's rows in lists of up to ``batch``, until it runs dry."""
    while True:
        rows = fetch(batch)
        if not rows:
            return
        yield rows


def _sqlite_select(app: Any) -> str:
    return f"SELECT rowid, originator_id, originator_version, topic, state FROM {app.recorder.events_table_name}"  # noqa: S608 - fixed names


def _sqlite_batches(app: Any, after: int, upto: int | None, limit: int | None, batch: int,
                    seals: list[Any] | None = None, seqs: tuple[int, int] | None = None,
                    ) -> Iterator[list[tuple[Any, ...]]]:
    conn = _sqlite_connect(app)
    try:
        conn.execute("BEGIN")  # one snapshot for the whole scan (WAL readers do not block writers)
        reader = _seal_reader(seals, _sqlite_seals(conn, seqs) if seals is not None else None)
        where, params = _where(after, upto, limit, "rowid", "?")
        yield from _fetched(conn.execute(_sqlite_select(app) + where, params).fetchmany, batch)
        if reader is not None:
            reader.detach()
    finally:
        conn.close()


class SealRows:
    """The log seal's rows, read beside the events in their snapshot, in ``seq`` order, in
    chunks (``fetch``). Those not read when the events end (sealed events missing at the end of
    the log) are read into memory before the snapshot closes (:meth:`detach`)."""

    def __init__(self, fetchmany: Callable[[int], list[tuple[Any, ...]]], close: Callable[[], None]) -> None:
        self._fetchmany = fetchmany
        self._close = close

    def fetch(self, size: int) -> list[tuple[Any, ...]]:
        return self._fetchmany(size)

    def detach(self) -> None:
        rest = [row for chunk in _fetched(self._fetchmany, BATCH) for row in chunk]
        self._close()
        left = iter(rest)
        self._fetchmany = lambda size: list(islice(left, size))
        self._close = lambda: None


def _seal_reader(seals: list[Any] | None, reader: SealRows | None) -> SealRows | None:
    if seals is not None:
        seals.append(reader)
    return reader


def _seq_range(seqs: tuple[int, int] | None, ph: str) -> tuple[str, tuple[int, ...]]:
    return ("", ()) if seqs is None else (f" WHERE seq BETWEEN {ph} AND {ph}", seqs)


def _sqlite_seals(conn: sqlite3.Connection, seqs: tuple[int, int] | None = None) -> SealRows | None:
    """The seal rows in ``seq`` order, read in the events' snapshot (None: no seal table)."""
    if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (SEAL_TABLE,)).fetchone() is None:
        return None
    where, params = _seq_range(seqs, "?")
    cur = conn.execute(f"SELECT {_SEAL_COLUMNS} FROM {SEAL_TABLE}{where} ORDER BY seq", params)  # noqa: S608 - fixed names
    return SealRows(cur.fetchmany, cur.close)


def _pg_select(app: Any) -> Any:
    from psycopg.sql import SQL, Identifier

    datastore = app.recorder.datastore
    # The server renders the uuid as 32 hex digits and hands every text column over as bytes,
    # so the client neither builds UUID objects nor decodes strings.
    return SQL("SELECT notification_id, convert_to(replace(originator_id::text, '-', ''), 'UTF8'), "
               "originator_version, convert_to(topic, 'UTF8'), state FROM {}.{}").format(
        Identifier(datastore.schema), Identifier(app.recorder.events_table_name))


def _postgres_batches(app: Any, after: int, upto: int | None, limit: int | None, batch: int,
                      seals: list[Any] | None = None, seqs: tuple[int, int] | None = None,
                      ) -> Iterator[list[tuple[Any, ...]]]:
    from psycopg.rows import tuple_row
    from psycopg.sql import SQL

    datastore = app.recorder.datastore
    where, params = _where(after, upto, limit, "notification_id", "%s")
    query = _pg_select(app) + SQL(where)
    with datastore.get_connection() as conn:
        with conn.transaction(force_rollback=True):
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            reader = _seal_reader(seals, _postgres_seals(app, conn, batch, seqs) if seals is not None else None)
            with conn.cursor(name="audit_scan", row_factory=tuple_row) as cur:
                cur.itersize = batch
                cur.execute(query, params)
                yield from _fetched(cur.fetchmany, batch)
            if reader is not None:
                reader.detach()


def _postgres_seals(app: Any, conn: Any, batch: int, seqs: tuple[int, int] | None = None) -> SealRows | None:
    """The seal rows in ``seq`` order, read in the events' snapshot (None: no seal table)."""
    from psycopg.rows import tuple_row
    from psycopg.sql import SQL, Identifier

    schema = app.recorder.datastore.schema
    with conn.cursor(row_factory=tuple_row) as probe:
        found = probe.execute("SELECT to_regclass(%s)", (f'"{schema}".{SEAL_TABLE}',)).fetchone()
    if not found or found[0] is None:
        return None
    cur = conn.cursor(name="audit_seal", row_factory=tuple_row)
    cur.itersize = batch
    where, params = _seq_range(seqs, "%s")
    cur.execute(SQL(f"SELECT {_SEAL_COLUMNS} FROM {{}}.{{}}{where} ORDER BY seq").format(  # noqa: S608 - fixed names
        Identifier(schema), Identifier(SEAL_TABLE)), params)
    return SealRows(cur.fetchmany, cur.close)


def _generic_batches(app: Any, after: int, upto: int | None, limit: int | None,
                     batch: int) -> Iterator[list[tuple[Any, ...]]]:
    # In-memory stores (tests, demos): the notification log API is all there is.
    start, seen = after, 0
    while True:
        notes = app.recorder.select_notifications(start, batch, stop=upto, inclusive_of_start=False)
        rows = [(n.id, n.originator_id.hex.encode() if isinstance(n.originator_id, UUID)
                 else _as_bytes(n.originator_id), n.originator_version, _as_bytes(n.topic), n.state)
                for n in notes]
        if limit is not None:
            rows = rows[: max(0, limit - seen)]
        seen += len(rows)
        if rows:
            yield rows
        if len(notes) < batch or (limit is not None and seen >= limit):
            return
        start = notes[-1].id


@contextmanager
def log_snapshot(app: Any, batch: int = BATCH) -> Iterator[tuple[int, Iterator[list[tuple[Any, ...]]]]]:
    """The whole log as one consistent snapshot: ``(number of rows, the raw rows in log order in
    lists of up to batch)``, counted and read in the same read transaction, so a reader can
    announce how many rows follow before streaming them while writers carry on. The rows must
    be read inside the ``with``; leaving it ends the transaction."""
    kind = store_kind(app)
    if kind == "sqlite":
        with _sqlite_snapshot(app, batch) as snapshot:
            yield snapshot
    elif kind == "postgres":
        with _postgres_snapshot(app, batch) as snapshot:
            yield snapshot
    else:
        # In-memory stores (tests, demos) have no transactions; writes happen in this process.
        count, top = log_size(app)
        yield count, _generic_batches(app, 0, top, None, batch)


@contextmanager
def _sqlite_snapshot(app: Any, batch: int) -> Iterator[tuple[int, Iterator[list[tuple[Any, ...]]]]]:
    conn = _sqlite_connect(app, any_thread=True)
    try:
        conn.execute("BEGIN")  # the snapshot starts at the first read and holds until close
        (count,) = conn.execute(f"SELECT COUNT(*) FROM {app.recorder.events_table_name}").fetchone()  # noqa: S608 - fixed names
        cur = conn.execute(_sqlite_select(app) + " ORDER BY rowid")
        yield int(count), _fetched(cur.fetchmany, batch)
    finally:
        conn.close()


@contextmanager
def _postgres_snapshot(app: Any, batch: int) -> Iterator[tuple[int, Iterator[list[tuple[Any, ...]]]]]:
    from psycopg.rows import tuple_row
    from psycopg.sql import SQL, Identifier

    datastore = app.recorder.datastore
    table = SQL("{}.{}").format(Identifier(datastore.schema), Identifier(app.recorder.events_table_name))
    with datastore.get_connection() as conn, conn.transaction(force_rollback=True):
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        with conn.cursor(row_factory=tuple_row) as cur:
            cur.execute(SQL("SELECT COUNT(*) FROM {}").format(table))
            (count,) = cur.fetchone()
        with conn.cursor(name="audit_snapshot", row_factory=tuple_row) as cur:
            cur.itersize = batch
            cur.execute(_pg_select(app) + SQL(" ORDER BY notification_id"))
            yield int(count), _fetched(cur.fetchmany, batch)


def log_size(app: Any) -> tuple[int, int]:
    """(number of stored events, highest position) of the log now."""
    kind = store_kind(app)
    table = app.recorder.events_table_name
    if kind == "sqlite":
        conn = _sqlite_connect(app)
        try:
            count, top = conn.execute(f"SELECT COUNT(*), COALESCE(MAX(rowid), 0) FROM {table}").fetchone()  # noqa: S608 - fixed names
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
            count, top = cur.fetchone()
        return int(count), int(top)
    count = top = 0
    for rows in _generic_batches(app, 0, None, None, BATCH):
        count, top = count + len(rows), rows[-1][0]
    return count, top


def sealed_size(app: Any) -> int:
    """How many events the log seal says the log holds: one indexed row, where counting the
    event table would read all of it (the integrity watch asks every second). Stores with no
    seal (in memory) are counted."""
    kind = store_kind(app)
    query = f"SELECT first_index + count FROM {SEAL_TABLE} ORDER BY seq DESC LIMIT 1"  # noqa: S608 - fixed names
    if kind == "sqlite":
        conn = _sqlite_connect(app)
        try:
            row = conn.execute(query).fetchone()
        except sqlite3.OperationalError:  # no seal table: a store the sealing code never opened
            return log_size(app)[0]
        finally:
            conn.close()
        return int(row[0]) if row else 0
    if kind == "postgres":
        from psycopg.rows import tuple_row

        datastore = app.recorder.datastore
        with datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as cur:
            cur.execute(f'SELECT first_index + count FROM "{datastore.schema}".{SEAL_TABLE} '  # noqa: S608 - fixed names
                        "ORDER BY seq DESC LIMIT 1")
            row = cur.fetchone()
        return int(row[0]) if row else 0
    return log_size(app)[0]


@dataclass(frozen=True)
class SealLayout:
    """Where the log seal says things are, read in one snapshot: how many seal rows (the last
    ``seq``) and sealed events there are, the highest stored position, and for each log index
    asked about the seal row holding it and its position (a split scan cuts the log there)."""

    seals: int
    sealed: int
    top: int
    at: dict[int, tuple[int, int]]


def seal_layout(app: Any, indices: list[int]) -> SealLayout | None:
    """The :class:`SealLayout` of the log now, each of ``indices`` found by a binary search over
    ``seq`` (a few indexed lookups each). None where the store has no seal, or where the seal is
    not what an intact one would be (the caller then scans the log in one pass, which names it)."""
    kind = store_kind(app)
    events = app.recorder.events_table_name
    if kind == "sqlite":
        conn = _sqlite_connect(app)
        try:
            conn.execute("BEGIN")
            return _layout(lambda sql, params: conn.execute(sql, params).fetchone(), events, "rowid", SEAL_TABLE,
                           "?", indices)
        except sqlite3.OperationalError:  # no seal table
            return None
        finally:
            conn.close()
    if kind != "postgres":
        return None
    from psycopg.rows import tuple_row

    schema = app.recorder.datastore.schema
    with app.recorder.datastore.get_connection() as conn, conn.transaction(force_rollback=True):
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        with conn.cursor(row_factory=tuple_row) as cur:
            if cur.execute("SELECT to_regclass(%s)", (f'"{schema}".{SEAL_TABLE}',)).fetchone()[0] is None:
                return None
            return _layout(lambda sql, params: cur.execute(sql, params).fetchone(), f'"{schema}".{events}',
                           "notification_id", f'"{schema}".{SEAL_TABLE}', "%s", indices)


def _layout(one: Callable[[str, tuple[Any, ...]], Any], events: str, pos: str, seal: str, ph: str,
            indices: list[int]) -> SealLayout | None:
    last = one(f"SELECT seq, first_index + count FROM {seal} ORDER BY seq DESC LIMIT 1", ())  # noqa: S608 - fixed names
    (top,) = one(f"SELECT COALESCE(MAX({pos}), 0) FROM {events}", ())  # noqa: S608 - fixed names
    if last is None or not all(isinstance(v, int) for v in last):
        return None
    row_sql = f"SELECT first_index, count, first_position FROM {seal} WHERE seq = {ph}"  # noqa: S608 - fixed names

    def row_at(seq: int) -> tuple[int, int, int] | None:
        row = one(row_sql, (seq,))
        return row if row is not None and all(isinstance(v, int) for v in row) else None

    at: dict[int, tuple[int, int]] = {}
    for index in indices:
        lo, hi = 1, last[0]
        while lo < hi:  # the last seal row whose first_index <= index
            mid = (lo + hi + 1) // 2
            row = row_at(mid)
            if row is None:
                return None
            lo, hi = (mid, hi) if row[0] <= index else (lo, mid - 1)
        row = row_at(lo)
        if row is None or not row[0] <= index < row[0] + row[1]:
            return None
        at[index] = (lo, row[2] + index - row[0])
    return SealLayout(last[0], last[1], int(top), at)


def stream_rows(app: Any, originator_id: UUID) -> list[StoredRow]:
    """The stored rows of one stream, in version order, with their log positions."""
    kind = store_kind(app)
    table = app.recorder.events_table_name
    if kind == "sqlite":
        conn = _sqlite_connect(app)
        try:
            rows = conn.execute(
                f"SELECT rowid, originator_id, originator_version, topic, state FROM {table} "  # noqa: S608 - fixed names
                "WHERE originator_id = ? ORDER BY originator_version", (originator_id.hex,)).fetchall()
        finally:
            conn.close()
    elif kind == "postgres":
        from psycopg.rows import tuple_row
        from psycopg.sql import SQL

        datastore = app.recorder.datastore
        with datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as cur:
            cur.execute(_pg_select(app) + SQL(" WHERE originator_id = %s ORDER BY originator_version"),
                        (originator_id,))
            rows = cur.fetchall()
    else:
        wanted = originator_id.hex.encode()
        rows = [r for batch in _generic_batches(app, 0, None, None, BATCH) for r in batch if r[1] == wanted]
        rows.sort(key=lambda r: r[2])
    return [StoredRow.from_raw(r) for r in rows]

"""The event table of a SQLite store: a file, which whoever reads it opens.

Raw reads go through a read-only connection of their own that hands text over as bytes (the
library's pool uses ``sqlite3.Row``, and decoding text would cost time and could fail on a
tampered column). The tables kept beside the events live in the same file, reached through a
short-lived connection. The read models live in a sibling file (``platforms.sqlite3`` →
``platforms.read.sqlite3``): SQLite has one writer per file, and sharing it made every command
wait, in the driver's sleeping busy handler, for the runner's batch writes (and the runner for
the commands). SQLite announces nothing: followers poll.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote
from uuid import UUID

from ..log_seal import TABLE as SEAL_TABLE
from ..log_seal import seal_existing
from ..private_files import ensure_private_file
from ..store import URL_ENV, VAR_DIR_ENV, StoreConfig, StoreUnavailable
from ..writable import is_read_only
from .base import (
    BATCH,
    SEAL_COLUMNS,
    WRITER_OPTION,
    Beside,
    DatabaseEventTable,
    RawRow,
    SealRows,
    Snapshot,
    rows_fetched,
    where_positions,
)

if TYPE_CHECKING:
    import sqlalchemy as sa

__all__ = ["SQLiteEventTable", "BUSY_TIMEOUT_S", "read_model_path", "SQLiteBeside"]

# How long a SQLite writer waits for the lock held by another writer (the runner, a rebuild,
# the API's own tables) before giving up.
BUSY_TIMEOUT_S = 30
_HINT = f"; run from the deployment directory, or set {VAR_DIR_ENV} or {URL_ENV}"


def read_model_path(events_path: str) -> str:
    """The SQLite file of the read models, beside the event store's file."""
    if events_path == ":memory:" or events_path.startswith("file:"):
        return events_path
    stem, dot, suffix = events_path.rpartition(".")
    return f"{stem}.read.{suffix}" if dot and "/" not in suffix else f"{events_path}.read"


class SQLiteEventTable(DatabaseEventTable):
    def __init__(self, store: StoreConfig, recorder: Any) -> None:
        super().__init__(store, recorder)
        self.path = store.sqlite_path
        self.events = recorder.events_table_name
        self.datastore = recorder.datastore
        self._select = f"SELECT rowid, originator_id, originator_version, topic, state FROM {self.events}"  # noqa: S608 - fixed names

    # ---------------------------------------------------------------- the store's databases
    @classmethod
    def events_table_name(cls, app_name: str) -> str:
        return "stored_events"

    @classmethod
    def check_holds_events(cls, store: StoreConfig, table: str) -> None:
        """Through the file opened read-only by URI, never by path (which would create it)."""
        path = Path(os.path.abspath(store.sqlite_path))
        if not path.exists():
            raise StoreUnavailable(f"no event store at {path} ({store.label}){_HINT}")
        if not path.is_file():
            raise StoreUnavailable(f"no event store at {path}: not a file ({store.label})")
        try:
            conn = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, timeout=30)
            try:
                if not conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                                    (table,)).fetchone():
                    raise StoreUnavailable(f"no event store at {path}: the file has no {table} table "
                                           f"({store.label}){_HINT}")
                if conn.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone() is None:  # noqa: S608 - a fixed name
                    raise StoreUnavailable(f"the event store at {path} holds no events ({store.label})")
            finally:
                conn.close()
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"cannot read the event store at {path} ({store.label}): {exc}") from None

    @classmethod
    def read_models_engine(cls, store: StoreConfig, **kwargs: Any) -> sa.Engine:
        """The sibling file of :func:`read_model_path`, WAL, a busy timeout, and transactions
        that begin with ``BEGIN IMMEDIATE`` when they will write (:data:`~.base.WRITER_OPTION`),
        so that a reader-turned-writer never deadlocks on the lock upgrade."""
        import sqlalchemy as sa  # here: a process that only reads the log never needs it
        from sqlalchemy import event as sa_event

        path = read_model_path(store.sqlite_path)
        if path != ":memory:" and not path.startswith("file:"):
            ensure_private_file(path)
        engine = sa.create_engine(
            f"sqlite:///{path}",
            connect_args={"timeout": BUSY_TIMEOUT_S, "check_same_thread": False},
            **kwargs,
        )
        _writers_first(engine, wal=path != ":memory:")

        @sa_event.listens_for(engine, "handle_error")
        def _on_error(context: Any) -> None:
            # A connection opened while the file could not be written stays read-only: treat
            # it as lost, so the pool opens new ones once the file is writable again.
            if is_read_only(context.original_exception):
                context.is_disconnect = True

        return engine

    @classmethod
    def read_models_file(cls, store: StoreConfig) -> Path | None:
        return Path(os.path.abspath(read_model_path(store.sqlite_path)))

    @classmethod
    def store_engine(cls, store: StoreConfig, **kwargs: Any) -> sa.Engine:
        """The event file itself (created, private, if need be), with a busy timeout that waits
        out the event writers' short transactions; a transaction that will write
        (:data:`~.base.WRITER_OPTION`, the migrations) takes the write lock as it begins."""
        import sqlalchemy as sa

        path = store.sqlite_path
        if path != ":memory:" and not path.startswith("file:"):
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            ensure_private_file(path)
        engine = sa.create_engine(f"sqlite:///{path}",
                                  connect_args={"timeout": BUSY_TIMEOUT_S, "check_same_thread": False}, **kwargs)
        _writers_first(engine, wal=False)  # the event store's recorder chooses the file's journal
        return engine

    # ---------------------------------------------------------------- reading the log
    def _connect(self) -> sqlite3.Connection:
        # Read-only, tuples, text as bytes. Any thread: a streamed HTTP response reads each
        # chunk on whichever worker thread is free (one at a time, never concurrently).
        conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=30, check_same_thread=False)
        conn.text_factory = bytes
        return conn

    @contextmanager
    def snapshot(self) -> Iterator[Snapshot]:
        conn = self._connect()
        try:
            conn.execute("BEGIN")  # the snapshot starts at the first read and holds until close
            yield _SQLiteSnapshot(conn, self.events, self._select)
        finally:
            conn.close()

    def position_of(self, aggregate_id: UUID, version: int) -> int | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT rowid FROM {self.events} WHERE originator_id=? AND originator_version=?",  # noqa: S608 - fixed names
                      (aggregate_id.hex, version))  # the recorder stores UUIDs as hex
            row = c.fetchone()
            return int(row[0]) if row else None

    def stream(self, originator_id: UUID) -> list[RawRow]:
        conn = self._connect()
        try:
            return conn.execute(self._select + " WHERE originator_id = ? ORDER BY originator_version",
                                (originator_id.hex,)).fetchall()
        finally:
            conn.close()

    def log_size(self) -> tuple[int, int]:
        conn = self._connect()
        try:
            count, top = conn.execute(f"SELECT COUNT(*), COALESCE(MAX(rowid), 0) FROM {self.events}").fetchone()  # noqa: S608 - fixed names
        finally:
            conn.close()
        return int(count), int(top)

    def sealed_size(self) -> int:
        conn = self._connect()
        try:
            row = conn.execute(f"SELECT first_index + count FROM {SEAL_TABLE} ORDER BY seq DESC LIMIT 1").fetchone()  # noqa: S608 - fixed names
        except sqlite3.OperationalError:  # no seal table: a store the sealing code never opened
            return self.log_size()[0]
        finally:
            conn.close()
        return int(row[0]) if row else 0

    # ---------------------------------------------------------------- writing beside the log
    def seal_unsealed(self, expected: int, sealed_at: str) -> int:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")  # the writers' lock, held until the seal is written
            done = seal_existing(conn.cursor(), self._select + " ORDER BY rowid", self.events, SEAL_TABLE, "?",
                                 expected, sealed_at)
            conn.execute("COMMIT" if done else "ROLLBACK")
            return done
        finally:
            conn.close()

    @contextmanager
    def beside(self) -> Iterator[Beside]:
        conn = sqlite3.connect(self.path, timeout=30)
        try:
            with conn:
                yield SQLiteBeside(conn)
        finally:
            conn.close()

    def listen(self) -> None:
        return None


def _writers_first(engine: sa.Engine, wal: bool) -> None:
    """SQLAlchemy, not the driver, begins ``engine``'s transactions, and a writer's with
    ``BEGIN IMMEDIATE``; a busy timeout; with ``wal``, the file in WAL mode."""
    from sqlalchemy import event as sa_event

    @sa_event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_S * 1000}")
        if wal:
            cur.execute("PRAGMA journal_mode = WAL")
            cur.execute("PRAGMA synchronous = NORMAL")
        cur.close()

    @sa_event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        # Writers take the write lock up front; readers begin deferred and never block
        # the event store's writers (WAL).
        if conn.get_execution_options().get(WRITER_OPTION):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


class _SQLiteSnapshot(Snapshot):
    def __init__(self, conn: sqlite3.Connection, events: str, select: str) -> None:
        self.conn = conn
        self.events = events
        self.select = select
        self._sealed: bool | None = None

    def count(self) -> int:
        (count,) = self.conn.execute(f"SELECT COUNT(*) FROM {self.events}").fetchone()  # noqa: S608 - fixed names
        return int(count)

    def top(self) -> int:
        (top,) = self.conn.execute(f"SELECT COALESCE(MAX(rowid), 0) FROM {self.events}").fetchone()  # noqa: S608 - fixed names
        return int(top)

    def rows(self, after: int = 0, upto: int | None = None, limit: int | None = None,
             batch: int = BATCH) -> Iterator[list[RawRow]]:
        where, params = where_positions(after, upto, limit, "rowid", "?")
        return rows_fetched(self.conn.execute(self.select + where, params).fetchmany, batch)

    def _has_seal(self) -> bool:
        if self._sealed is None:
            self._sealed = self.conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                                             (SEAL_TABLE,)).fetchone() is not None
        return self._sealed

    def seal_rows(self, seqs: tuple[int, int] | None = None, batch: int = BATCH) -> SealRows | None:
        if not self._has_seal():
            return None
        where, params = ("", ()) if seqs is None else (" WHERE seq BETWEEN ? AND ?", seqs)
        cur = self.conn.execute(f"SELECT {SEAL_COLUMNS} FROM {SEAL_TABLE}{where} ORDER BY seq", params)  # noqa: S608 - fixed names
        return SealRows(cur.fetchmany)

    def last_seal(self) -> tuple[Any, Any] | None:
        if not self._has_seal():
            return None
        return self.conn.execute(f"SELECT seq, first_index + count FROM {SEAL_TABLE} "  # noqa: S608 - fixed names
                                 "ORDER BY seq DESC LIMIT 1").fetchone()

    def seal_at(self, seq: int) -> tuple[Any, Any, Any] | None:
        return self.conn.execute(f"SELECT first_index, count, first_position FROM {SEAL_TABLE} "  # noqa: S608 - fixed names
                                 "WHERE seq = ?", (seq,)).fetchone()


class SQLiteBeside(Beside):
    """:class:`~.base.Beside` on a ``sqlite3`` connection."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def table(self, name: str) -> str:
        return name

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[RawRow]:
        return self.conn.execute(sql, params).fetchall()

    def insert(self, sql: str, params: Sequence[Any]) -> int | None:
        cur = self.conn.execute(sql, params)
        return cur.lastrowid if cur.rowcount == 1 else None

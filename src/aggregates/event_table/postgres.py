"""The event table of a PostgreSQL store: a server, reached through the library's connection pool.

Raw reads ask the server to render the ``uuid`` column as 32 hex digits and to hand every text
column over as bytes, so the client neither builds UUID objects nor decodes strings; a snapshot
is one REPEATABLE READ transaction read through server-side cursors, in bounded memory. The
tables kept beside the events, and the read models, live in the same database and schema
(``?schema=``), so one backup holds everything. The recorder NOTIFYs in every transaction that
inserts events, delivered at commit, so a follower LISTENing wakes as soon as events commit.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import sqlalchemy as sa
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier

from ..log_seal import TABLE as SEAL_TABLE
from ..log_seal import seal_existing
from ..store import StoreConfig, StoreUnavailable
from .base import (
    BATCH,
    SEAL_COLUMNS,
    Beside,
    DatabaseEventTable,
    RawRow,
    SealRows,
    Snapshot,
    rows_fetched,
    where_positions,
)

__all__ = ["PostgresEventTable"]

# Seconds to wait for a PostgreSQL server before saying it does not answer (libpq's minimum is 2).
CONNECT_TIMEOUT_S = 5


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class PostgresEventTable(DatabaseEventTable):
    def __init__(self, store: StoreConfig, recorder: Any) -> None:
        super().__init__(store, recorder)
        self.datastore = recorder.datastore
        self.schema: str = self.datastore.schema
        self.events: str = recorder.events_table_name
        self.channel: str = recorder.channel_name
        self.qualified = SQL("{}.{}").format(Identifier(self.schema), Identifier(self.events))
        self.seal = f"{_quoted(self.schema)}.{SEAL_TABLE}"
        self.select = SQL("SELECT notification_id, convert_to(replace(originator_id::text, '-', ''), 'UTF8'), "
                          "originator_version, convert_to(topic, 'UTF8'), state FROM {}").format(self.qualified)

    # ---------------------------------------------------------------- the store's databases
    @classmethod
    def events_table_name(cls, app_name: str) -> str:
        return f"{app_name.lower()}_events"

    @classmethod
    def check_holds_events(cls, store: StoreConfig, table: str) -> None:
        """In a read-only session that only asks the catalogue and the table."""
        params = store.postgres_params()
        schema = store.schema or "public"
        where = f"{params['host']}:{params['port']}/{params['dbname']}, schema {schema}"
        name = Identifier(schema, table)
        try:
            with psycopg.connect(**{**params, "password": params["password"] or None},
                                 connect_timeout=CONNECT_TIMEOUT_S, autocommit=True,
                                 options="-c default_transaction_read_only=on") as conn:
                found = conn.execute("SELECT to_regclass(%s)", [name.as_string(conn)]).fetchone()
                if found is None or found[0] is None:
                    raise StoreUnavailable(f"no event store in {where}: no table {table} ({store.label})")
                row = conn.execute(SQL("SELECT EXISTS (SELECT 1 FROM {})").format(name)).fetchone()
                has_events = row is not None and row[0]
        except psycopg.Error as exc:
            reason = " ".join(store.redact(str(exc)).split())  # libpq's messages span several lines
            raise StoreUnavailable(f"cannot open the event store at {where} ({store.label}): {reason}") from None
        if not has_events:
            raise StoreUnavailable(f"the event store in {where} holds no events ({store.label})")

    @classmethod
    def read_models_engine(cls, store: StoreConfig, **kwargs: Any) -> sa.Engine:
        """The ``psycopg`` driver, with ``search_path`` set to the store's schema (``?schema=``)
        so the read models sit beside that schema's events."""
        url = store.sqlalchemy_url
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://"):]
        connect_args: dict[str, Any] = dict(kwargs.pop("connect_args", {}))
        if store.schema:
            connect_args["options"] = f"-csearch_path={store.schema}"
        return sa.create_engine(url, connect_args=connect_args, pool_pre_ping=True, **kwargs)

    @classmethod
    def read_models_file(cls, store: StoreConfig) -> Path | None:
        return None

    @classmethod
    def store_engine(cls, store: StoreConfig, **kwargs: Any) -> sa.Engine:
        """The read models' engine: they share the store's database and schema."""
        return cls.read_models_engine(store, **kwargs)

    # ---------------------------------------------------------------- reading the log
    @contextmanager
    def snapshot(self) -> Iterator[Snapshot]:
        with self.datastore.get_connection() as conn, conn.transaction(force_rollback=True), ExitStack() as cursors:
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            # The library's connections end a transaction idle for 5 seconds
            # (POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT); a snapshot's reader works between
            # fetches (a rebuild writes its rows, for longer than that on a busy machine: it
            # failed so), and a read-only snapshot holds no lock a writer waits for.
            conn.execute("SET LOCAL idle_in_transaction_session_timeout = 0")
            yield _PostgresSnapshot(conn, cursors, self)

    def position_of(self, aggregate_id: UUID, version: int) -> int | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT notification_id FROM {self.schema}.{self.events} "  # noqa: S608 - fixed names
                "WHERE originator_id=%s AND originator_version=%s",
                (aggregate_id, version),
            )
            row = c.fetchone()
            return int(row["notification_id"]) if row else None

    def stream(self, originator_id: UUID) -> list[RawRow]:
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as cur:
            cur.execute(self.select + SQL(" WHERE originator_id = %s ORDER BY originator_version"), (originator_id,))
            return cur.fetchall()

    def log_size(self) -> tuple[int, int]:
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as cur:
            cur.execute(SQL("SELECT COUNT(*), COALESCE(MAX(notification_id), 0) FROM {}").format(self.qualified))
            count, top = cur.fetchone()
        return int(count), int(top)

    def sealed_size(self) -> int:
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as cur:
            cur.execute(f"SELECT first_index + count FROM {self.seal} ORDER BY seq DESC LIMIT 1")  # noqa: S608 - fixed names
            row = cur.fetchone()
        return int(row[0]) if row else 0

    # ---------------------------------------------------------------- writing beside the log
    def seal_unsealed(self, expected: int, sealed_at: str) -> int:
        events = f"{_quoted(self.schema)}.{self.events}"
        with self.datastore.transaction(commit=True) as cur:
            cur.execute(f"LOCK TABLE {events} IN EXCLUSIVE MODE")  # as the library's writers take it
            return seal_existing(_TupleCursor(cur), f"SELECT notification_id, replace(originator_id::text, '-', ''), "  # noqa: S608 - fixed names
                                 f"originator_version, topic, state FROM {events} ORDER BY notification_id",
                                 events, self.seal, "%s", expected, sealed_at)

    @contextmanager
    def beside(self) -> Iterator[Beside]:
        with self.datastore.transaction(commit=True) as cur:
            yield _PostgresBeside(cur, self.schema)

    # ---------------------------------------------------------------- following the log
    def listen(self) -> psycopg.Connection[Any]:
        params = self.store.postgres_params()
        conn = psycopg.connect(autocommit=True, **{**params, "password": params["password"] or None})
        try:
            conn.execute(SQL("LISTEN {}").format(Identifier(self.channel)))
        except BaseException:
            conn.close()
            raise
        return conn


class _PostgresSnapshot(Snapshot):
    def __init__(self, conn: Any, cursors: ExitStack, table: PostgresEventTable) -> None:
        self.conn = conn
        self.cursors = cursors  # closed before the transaction ends
        self.adapter = table
        self._sealed: bool | None = None
        self._named = 0

    def _one(self, query: Any, params: Sequence[Any] = ()) -> Any:
        with self.conn.cursor(row_factory=tuple_row) as cur:
            return cur.execute(query, params).fetchone()

    def _server_cursor(self, name: str, batch: int) -> Any:
        self._named += 1
        cur = self.cursors.enter_context(self.conn.cursor(name=f"{name}_{self._named}", row_factory=tuple_row))
        cur.itersize = batch
        return cur

    def count(self) -> int:
        return int(self._one(SQL("SELECT COUNT(*) FROM {}").format(self.adapter.qualified))[0])

    def top(self) -> int:
        return int(self._one(SQL("SELECT COALESCE(MAX(notification_id), 0) FROM {}").format(self.adapter.qualified))[0])

    def rows(self, after: int = 0, upto: int | None = None, limit: int | None = None,
             batch: int = BATCH) -> Iterator[list[RawRow]]:
        where, params = where_positions(after, upto, limit, "notification_id", "%s")
        cur = self._server_cursor("audit_scan", batch)
        cur.execute(self.adapter.select + SQL(where), params)
        return rows_fetched(cur.fetchmany, batch)

    def _has_seal(self) -> bool:
        if self._sealed is None:
            self._sealed = self._one("SELECT to_regclass(%s)", (self.adapter.seal,))[0] is not None
        return self._sealed

    def seal_rows(self, seqs: tuple[int, int] | None = None, batch: int = BATCH) -> SealRows | None:
        if not self._has_seal():
            return None
        where, params = ("", ()) if seqs is None else (" WHERE seq BETWEEN %s AND %s", seqs)
        cur = self._server_cursor("audit_seal", batch)
        cur.execute(f"SELECT {SEAL_COLUMNS} FROM {self.adapter.seal}{where} ORDER BY seq", params)  # noqa: S608 - fixed names
        return SealRows(cur.fetchmany)

    def last_seal(self) -> tuple[Any, Any] | None:
        if not self._has_seal():
            return None
        return self._one(f"SELECT seq, first_index + count FROM {self.adapter.seal} ORDER BY seq DESC LIMIT 1")  # noqa: S608 - fixed names

    def seal_at(self, seq: int) -> tuple[Any, Any, Any] | None:
        return self._one(f"SELECT first_index, count, first_position FROM {self.adapter.seal} WHERE seq = %s",  # noqa: S608 - fixed names
                         (seq,))


class _PostgresBeside(Beside):
    """:class:`~.base.Beside` on the library's cursor (dict rows), ``?`` read as ``%s``."""

    def __init__(self, cur: Any, schema: str) -> None:
        self.cur = cur
        self.schema = schema

    def table(self, name: str) -> str:
        return f"{_quoted(self.schema)}.{_quoted(name)}"

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[RawRow]:
        self.cur.execute(sql.replace("?", "%s"), params)
        return [tuple(row.values()) for row in self.cur.fetchall()]

    def insert(self, sql: str, params: Sequence[Any]) -> int | None:
        self.cur.execute(sql.replace("?", "%s") + " RETURNING id", params)
        row = self.cur.fetchone()
        return int(row["id"]) if row else None


class _TupleCursor:
    """The library's cursor hands rows over as dicts; the seal upgrade reads tuples."""

    def __init__(self, cur: Any) -> None:
        self.cur = cur

    def execute(self, sql: str, params: Any = ()) -> _TupleCursor:
        self.cur.execute(sql, params)
        return self

    def executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        self.cur.executemany(sql, rows)

    def fetchone(self) -> tuple[Any, ...]:
        return tuple(self.cur.fetchone().values())

    def fetchmany(self, size: int) -> list[tuple[Any, ...]]:
        return [tuple(row.values()) for row in self.cur.fetchmany(size)]

"""The read models' database (读模型库).

On PostgreSQL the read models live beside the events, in the same database and schema. On
SQLite they live in a sibling file (``platforms.sqlite3`` → ``platforms.read.sqlite3``): SQLite
has one writer per file, and sharing it made every command wait, in the driver's sleeping busy
handler, for the runner's batch writes (and the runner for the commands). Either way a model's
rows and its position are written in one transaction of that database (each event exactly once),
and the read side can be dropped and rebuilt from the events at any time. User accounts are
not read models and live with the events (:mod:`api.users`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event as sa_event

from aggregates.private_files import ensure_private_file
from aggregates.store import StoreConfig, StoreUnavailable
from aggregates.writable import is_read_only

# How long a SQLite writer waits for the lock held by another writer (the runner, a rebuild,
# the API's own tables) before giving up.
SQLITE_BUSY_TIMEOUT_S = 30
WRITER_OPTION = "projections_writer"


def read_model_path(events_path: str) -> str:
    """The SQLite file of the read models, beside the event store's file."""
    if events_path == ":memory:" or events_path.startswith("file:"):
        return events_path
    stem, dot, suffix = events_path.rpartition(".")
    return f"{stem}.read.{suffix}" if dot and "/" not in suffix else f"{events_path}.read"


def make_engine(store: StoreConfig, **kwargs: Any) -> sa.Engine:
    """A SQLAlchemy engine on the read models' database.

    SQLite: the sibling file of :func:`read_model_path`, WAL, a busy timeout, and transactions that
    begin with ``BEGIN IMMEDIATE`` so that a reader-turned-writer never deadlocks on the lock
    upgrade. PostgreSQL: the ``psycopg`` driver, with ``search_path`` set to the store's schema
    (``?schema=``) so the read models sit beside that schema's events.
    """
    if store.is_sqlite:
        path = read_model_path(store.sqlite_path)
        if path != ":memory:" and not path.startswith("file:"):
            ensure_private_file(path)
        engine = sa.create_engine(
            f"sqlite:///{path}",
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False},
            **kwargs,
        )

        @sa_event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy (not the driver) decide when transactions begin.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_S * 1000}")
            if path != ":memory:":
                cur.execute("PRAGMA journal_mode = WAL")
            cur.execute("PRAGMA synchronous = NORMAL")
            cur.close()

        @sa_event.listens_for(engine, "handle_error")
        def _on_error(context: Any) -> None:
            # A connection opened while the file could not be written stays read-only: treat
            # it as lost, so the pool opens new ones once the file is writable again.
            if is_read_only(context.original_exception):
                context.is_disconnect = True

        @sa_event.listens_for(engine, "begin")
        def _on_begin(conn: sa.Connection) -> None:
            # Writers take the write lock up front; readers begin deferred and never block
            # the event store's writers (WAL).
            if conn.get_execution_options().get(WRITER_OPTION):
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                conn.exec_driver_sql("BEGIN")

        return engine
    if store.is_postgres:
        url = store.sqlalchemy_url
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://"):]
        connect_args: dict[str, Any] = dict(kwargs.pop("connect_args", {}))
        if store.schema:
            connect_args["options"] = f"-csearch_path={store.schema}"
        return sa.create_engine(url, connect_args=connect_args, pool_pre_ping=True, **kwargs)
    raise ValueError(f"read models need a SQLite or PostgreSQL store, not {store.masked!r}")


def existing_engine(store: StoreConfig) -> sa.Engine:
    """An engine on read models that must already exist, for reconciliation, which compares them
    with the log: a missing read-model file or table raises :class:`StoreUnavailable` (one line,
    password masked) rather than being created empty and reported as a difference or a traceback."""
    from .tables import POSITIONS

    hint = f"({store.label}); build them with `platforms projections rebuild`"
    if store.is_sqlite:
        path = Path(os.path.abspath(read_model_path(store.sqlite_path)))
        if not path.is_file():
            raise StoreUnavailable(f"no read models at {path} {hint}")
    engine = make_engine(store)
    if not sa.inspect(engine).has_table(POSITIONS):
        engine.dispose()
        raise StoreUnavailable(f"the read-model database has no {POSITIONS} table {hint}")
    return engine


@contextmanager
def write_transaction(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A transaction that will write: on SQLite it holds the write lock from its first
    statement (``BEGIN IMMEDIATE``), so reading a position and writing after it is atomic."""
    with engine.connect().execution_options(**{WRITER_OPTION: True}) as conn:
        with conn.begin():
            yield conn


__all__ = ["existing_engine", "make_engine", "write_transaction", "SQLITE_BUSY_TIMEOUT_S"]

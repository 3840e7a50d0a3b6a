"""The read models' database (读模型库).

Where it is and how it is reached is the store's (:mod:`aggregates.event_table`): on PostgreSQL
the read models live beside the events, in the same database and schema; on SQLite in a sibling
file (``platforms.sqlite3`` → ``platforms.read.sqlite3``). Either way a model's rows and its
position are written in one transaction of that database (each event exactly once), and the
read side can be dropped and rebuilt from the events at any time. User accounts are not read
models and live with the events (:mod:`api.users`). The tables are created and changed by the
migrations (:mod:`aggregates.migrations`, branch ``read_models``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from aggregates.event_table import WRITER_OPTION, store_adapter
from aggregates.store import StoreConfig, StoreUnavailable

from .tables import POSITIONS


def make_engine(store: StoreConfig, **kwargs: Any) -> sa.Engine:
    """A SQLAlchemy engine on the read models' database of ``store`` (created if need be)."""
    return store_adapter(store).read_models_engine(store, **kwargs)


def existing_engine(store: StoreConfig) -> sa.Engine:
    """An engine on read models that must already exist, for reconciliation, which compares them
    with the log: a missing read-model file or table raises :class:`StoreUnavailable` (one line,
    password masked) rather than being created empty and reported as a difference or a traceback."""
    hint = f"({store.label}); build them with `platforms projections rebuild`"
    path = store_adapter(store).read_models_file(store)
    if path is not None and not path.is_file():
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


__all__ = ["existing_engine", "make_engine", "write_transaction"]

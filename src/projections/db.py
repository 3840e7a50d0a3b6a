"""The read models' database (读模型库).

Where it is and how it is reached is the store's (:mod:`aggregates.event_table`): on PostgreSQL
the read models live beside the events, in the same database and schema; on SQLite in a sibling
file (``platforms.sqlite3`` → ``platforms.read.sqlite3``). Either way a model's rows and its
position are written in one transaction of that database (each event exactly once), and the
read side can be dropped and rebuilt from the events at any time. User accounts are not read
models and live with the events (:mod:`api.users`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from aggregates.ddl_lock import hold_ddl_lock
from aggregates.event_table import WRITER_OPTION, store_adapter
from aggregates.store import StoreConfig, StoreUnavailable

from .tables import LIVE, MODEL_TABLES, POSITIONS, POSITIONS_MD, create_indexes, positions_table


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


def ensure_schema(engine: sa.Engine) -> None:
    """Create whatever read-model table is missing (a fresh store, or tables dropped by an
    operator: they are refilled from position 0 because their position row goes with them)."""
    with write_transaction(engine) as conn:
        hold_ddl_lock(conn)
        POSITIONS_MD.create_all(conn, checkfirst=True)
        inspector = sa.inspect(conn)
        existing = set(inspector.get_table_names())
        for model, names in MODEL_TABLES.items():
            if not all(n in existing and _has_columns(inspector, n) for n in names):
                # A model whose tables are (partly) gone, or lack a column a newer release added,
                # starts over from the beginning: it is rebuilt from the log.
                for n in names:
                    if n in existing:
                        conn.execute(sa.text(f'DROP TABLE "{n}"'))
                conn.execute(positions_table.delete().where(positions_table.c.name == model))
                for n in names:
                    LIVE[n].create(conn)
            # Every index, new tables' and those a newer release added to existing ones (IF NOT EXISTS).
            create_indexes(conn, list(names))
        # Every model has a position row, so a follower can lock it (SELECT ... FOR UPDATE).
        have = {r[0] for r in conn.execute(sa.select(positions_table.c.name))}
        missing = [{"name": m, "position": 0} for m in MODEL_TABLES if m not in have]
        if missing:
            conn.execute(positions_table.insert(), missing)


def _has_columns(inspector: Any, name: str) -> bool:
    """Whether the live table ``name`` has every column its definition now names."""
    have = {c["name"] for c in inspector.get_columns(name)}
    return all(c.name in have for c in LIVE[name].columns)


__all__ = ["ensure_schema", "existing_engine", "make_engine", "write_transaction"]

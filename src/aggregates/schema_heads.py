"""This release's newest schema revisions (模式版本), and the quick check that a store is at them.

Every entry point checks the schema beside the event log before it serves
(:func:`api.registry_wiring.prepare_schema`). Almost always the store is current, and learning
that through Alembic meant importing it, 0.15–0.35 s of every command's start (a rebuild's, a
verification's: README, "Performance": rebuild). The heads are therefore written here too, and
the store's ``alembic_version`` rows are compared with them in plain SQL; anything but an exact
match (not migrated, behind, ahead, unreadable) goes to :mod:`aggregates.migrations`, which
decides with Alembic as before. ``tests/test_migrations.py`` checks that :data:`HEADS` is what
Alembic finds in ``migrations/versions``, so a new revision cannot be forgotten here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .event_table import store_adapter
from .store import StoreConfig

if TYPE_CHECKING:
    import sqlalchemy as sa

__all__ = ["BRANCHES", "HEADS", "VERSION_TABLE", "Database", "SchemaNotCurrent", "at_heads", "databases"]

BRANCHES = ("store", "read_models")
# The newest revision of each branch (aggregates/migrations/versions).
HEADS = {"store": "store0001", "read_models": "read0002"}
VERSION_TABLE = "alembic_version"


class SchemaNotCurrent(RuntimeError):
    """The store's schema is not at this release's newest revision (never migrated, behind, or
    ahead of it). One line, naming the store (password masked) and what to do."""


@dataclass(frozen=True)
class Database:
    """One database of a store and the branches whose tables it holds."""

    branches: tuple[str, ...]
    engine: sa.Engine
    label: str


def databases(store: StoreConfig) -> list[Database]:
    """The databases of ``store`` and their branches: the event file and the read-model file on
    SQLite, the store's schema on PostgreSQL. The caller disposes of the engines."""
    adapter = store_adapter(store)
    read_file = adapter.read_models_file(store)
    if read_file is None:
        return [Database(BRANCHES, adapter.store_engine(store), f"schema {store.schema or 'public'}")]
    return [Database(("store",), adapter.store_engine(store), f"event file {Path(store.sqlite_path).resolve()}"),
            Database(("read_models",), adapter.read_models_engine(store), f"read-model file {read_file}")]


def at_heads(store: StoreConfig) -> bool:
    """Whether every database of ``store`` is exactly at :data:`HEADS`, read in plain SQL; False
    for anything else, including a database that cannot be read, for the full check to judge."""
    import sqlalchemy as sa

    for db in databases(store):
        try:
            with db.engine.connect() as conn:
                postgres = conn.dialect.name == "postgresql"
                if postgres and conn.exec_driver_sql("SELECT current_schema()").scalar() is None:
                    return False  # a schema not created yet
                rows = conn.exec_driver_sql(f"SELECT version_num FROM {VERSION_TABLE}")  # noqa: S608 - a fixed name
                current = {row[0] for row in rows}
        except sa.exc.SQLAlchemyError:
            return False
        finally:
            db.engine.dispose()
        if current != {HEADS[branch] for branch in db.branches}:
            return False
    return True

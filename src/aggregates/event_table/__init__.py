"""The event table's adapter (事件表适配器): what the registry does with a store beyond what the
``eventsourcing`` library does for it, one implementation per store.

The library writes the events. The registry also reads its table directly (the audit verifies
the stored bytes, a rebuild replays them, a replayed command reports its position), keeps
tables of its own beside it (the log seal, signed checkpoints, witnesses' cosignatures), keeps
the read models in a database the store decides, and on PostgreSQL is told of new events. How
is a matter of the store: SQLite is a file that whoever reads it opens (:mod:`.sqlite`),
PostgreSQL a server reached through the library's pool (:mod:`.postgres`), and a store in
memory has only the library's API (:mod:`.memory`). Each implements
:class:`~.base.EventTable`; the rest of the code asks :func:`event_table` (or, before any
application is open, :func:`store_adapter`) and never which store it runs on.
"""

from __future__ import annotations

from typing import Any
from weakref import WeakKeyDictionary

from ..store import StoreConfig
from .base import WRITER_OPTION, Beside, DatabaseEventTable, EventTable, RawRow, SealRows, Snapshot
from .sqlite import SQLiteEventTable, read_model_path

# The adapters of the other stores are imported when a store of their kind is opened: a command
# that reads a SQLite log and runs briefly (``platforms audit verify``) would spend a fifth of its
# start-up importing SQLAlchemy for the in-memory one (README, Performance).

__all__ = ["WRITER_OPTION", "Beside", "DatabaseEventTable", "EventTable", "RawRow", "SealRows", "Snapshot",
           "event_table", "read_model_path", "store_adapter"]

_tables: WeakKeyDictionary[Any, EventTable] = WeakKeyDictionary()


def store_adapter(store: StoreConfig) -> type[DatabaseEventTable]:
    """The adapter class of ``store``'s kind, for what needs only the store's configuration
    (whether it holds events, the engines on its databases). ValueError for a store in memory,
    which has no database."""
    if store.is_postgres:
        from .postgres import PostgresEventTable

        return PostgresEventTable
    if store.is_sqlite:
        return SQLiteEventTable
    raise ValueError(f"read models and accounts need a SQLite or PostgreSQL store, not {store.masked!r}")


def event_table(app: Any) -> EventTable:
    """The adapter of ``app``'s event table (``app``: an application with a ``store``, a
    :class:`~aggregates.store.StoreConfig`, and the library's ``recorder``), one per application:
    it remembers which of its tables are in place. A SQLite database in one connection's memory
    is read like a store in memory, through the library: no other connection can open it."""
    table = _tables.get(app)
    if table is None:
        kind: type[EventTable]
        if app.store.in_memory:
            from .memory import MemoryEventTable

            kind = MemoryEventTable
        else:
            kind = store_adapter(app.store)
        # Two threads may both get here: the first adapter stored is the one both use.
        table = _tables.setdefault(app, kind(app.store, app.recorder))
    return table

"""What the registry does with a store beyond what the ``eventsourcing`` library does, as one
interface (:class:`EventTable`) that each store implements.

Rows read raw (the verifier's hot path, a rebuild's replay) are tuples ``(position, id,
version, topic, state)`` with ``id`` and ``topic`` as *bytes* and ``state`` the stored bytes.
``id`` is the originator id as 32 lowercase hex digits: exactly the text the SQLite store keeps
(read as bytes, never parsed, never decoded: a tampered column that is not UTF-8 cannot crash the
reader), and on PostgreSQL the ``uuid`` column rendered as hex by the server. A NULL column comes
back as ``None``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

from ..store import StoreConfig

if TYPE_CHECKING:
    import sqlalchemy as sa

__all__ = ["as_bytes", "BATCH", "DatabaseEventTable", "EventTable", "RawRow", "SealRows", "Snapshot", "Beside",
           "SEAL_COLUMNS", "WRITER_OPTION", "rows_fetched", "where_positions"]

RawRow = tuple[Any, ...]
BATCH = 20000  # rows per round trip of a raw read
SEAL_COLUMNS = "seq, first_index, first_position, count, leaves, streams"
# The execution option with which a read-model transaction says it will write: on SQLite it then
# takes the write lock as it begins, so reading a position and writing after it is atomic.
WRITER_OPTION = "projections_writer"


class SealRows:
    """The log seal's rows (:mod:`aggregates.log_seal`: ``seq, first_index, first_position,
    count, leaves, streams``) in ``seq`` order, ``fetch(n)`` at a time, read in a snapshot."""

    def __init__(self, fetch: Callable[[int], list[RawRow]]) -> None:
        self.fetch = fetch


class Snapshot(ABC):
    """One consistent view of the log, taken while writers carry on: one read transaction on
    SQLite (WAL readers do not block writers), one REPEATABLE READ transaction with server-side
    cursors on PostgreSQL. What it hands out must be read before the snapshot closes."""

    @abstractmethod
    def count(self) -> int:
        """How many events the log holds."""

    @abstractmethod
    def top(self) -> int:
        """The highest position in the log (0 when it is empty)."""

    @abstractmethod
    def rows(self, after: int = 0, upto: int | None = None, limit: int | None = None,
             batch: int = BATCH) -> Iterator[list[RawRow]]:
        """Raw rows with ``after < position <= upto`` in log order (at most ``limit``), in lists
        of up to ``batch``."""

    @abstractmethod
    def seal_rows(self, seqs: tuple[int, int] | None = None, batch: int = BATCH) -> SealRows | None:
        """The seal's rows (with ``seqs``, only ``lo <= seq <= hi``); None where the store has no
        seal table (a store the sealing code never opened, or one in memory)."""

    @abstractmethod
    def last_seal(self) -> tuple[Any, Any] | None:
        """``(seq, first_index + count)`` of the last seal row, as stored; None without one."""

    @abstractmethod
    def seal_at(self, seq: int) -> tuple[Any, Any, Any] | None:
        """``(first_index, count, first_position)`` of seal row ``seq``, as stored; None without it."""


class Beside(ABC):
    """A transaction on the database holding the event table, for tables kept beside it (so one
    backup holds both). SQL is written with ``?`` placeholders and table names from
    :meth:`table`; rows come back as tuples."""

    @abstractmethod
    def table(self, name: str) -> str:
        """``name`` as SQL names it here (in the store's schema, on PostgreSQL)."""

    @abstractmethod
    def query(self, sql: str, params: Sequence[Any] = ()) -> list[RawRow]:
        """Run ``sql``; the rows it returns."""

    @abstractmethod
    def insert(self, sql: str, params: Sequence[Any]) -> int | None:
        """Run the ``INSERT`` ``sql`` into a table whose key is ``id``: the new row's id, None
        when it inserted nothing (``ON CONFLICT DO NOTHING``)."""


class EventTable(ABC):
    """The event table of one application's store, read directly, and the tables kept beside it.
    Obtained once per application with :func:`aggregates.event_table.event_table`."""

    in_memory = False
    """True for a store in this process's memory (tests, demos): no other process can open it,
    and it keeps no log seal (the library's in-memory recorder writes none)."""

    def __init__(self, store: StoreConfig, recorder: Any) -> None:
        """The event table ``recorder`` (the library's) writes in ``store``."""
        self.store = store

    # ---------------------------------------------------------------- reading the log
    @abstractmethod
    def snapshot(self) -> AbstractContextManager[Snapshot]:
        """One consistent view of the log (:class:`Snapshot`) for the duration of a ``with``."""

    @abstractmethod
    def position_of(self, aggregate_id: UUID, version: int) -> int | None:
        """The log position of one stored event; None if it is not stored."""

    @abstractmethod
    def stream(self, originator_id: UUID) -> list[RawRow]:
        """The raw rows of one stream, in version order."""

    @abstractmethod
    def log_size(self) -> tuple[int, int]:
        """(number of stored events, highest position) of the log now."""

    @abstractmethod
    def sealed_size(self) -> int:
        """How many events the log seal says the log holds: one indexed row, where counting the
        event table would read all of it (the integrity watch asks every second). A store with
        no seal table is counted."""

    # ---------------------------------------------------------------- writing beside the log
    @abstractmethod
    def seal_unsealed(self, expected: int, sealed_at: str) -> int:
        """Seal the ``expected`` events of a log whose seal is empty, in one transaction holding
        the writers' lock; how many were sealed (0 when the log or its seal changed meanwhile:
        nothing is written then)."""

    @abstractmethod
    def beside(self) -> AbstractContextManager[Beside]:
        """A transaction (:class:`Beside`) on the tables kept beside the event table (which the
        migrations create, :mod:`aggregates.migrations`), committed when the ``with`` ends
        without an exception."""

    # ---------------------------------------------------------------- following the log
    @abstractmethod
    def listen(self) -> Any | None:
        """A new connection on which the store announces each commit of events (psycopg's
        ``notifies()``), or None for a store that announces nothing (followers then poll)."""


class DatabaseEventTable(EventTable):
    """An event table in a database that other processes open too (a file or a server), where
    the store also keeps the read models and the accounts. What needs only the store's
    configuration is asked of the class (:func:`aggregates.event_table.store_adapter`), before
    or without any application."""

    @classmethod
    @abstractmethod
    def events_table_name(cls, app_name: str) -> str:
        """The event table as the ``eventsourcing`` recorder names it for application ``app_name``."""

    @classmethod
    @abstractmethod
    def check_holds_events(cls, store: StoreConfig, table: str) -> None:
        """Raise :class:`~aggregates.store.StoreUnavailable` (one line, the store named with its
        password masked) unless ``store`` exists and its event table ``table`` holds at least one
        event; through connections that cannot create anything."""

    @classmethod
    @abstractmethod
    def read_models_engine(cls, store: StoreConfig, **kwargs: Any) -> sa.Engine:
        """A SQLAlchemy engine on the database of ``store``'s read models (created if need be)."""

    @classmethod
    @abstractmethod
    def read_models_file(cls, store: StoreConfig) -> Path | None:
        """The file holding ``store``'s read models where they have one of their own; None
        where they live in the store's own database."""

    @classmethod
    @abstractmethod
    def store_engine(cls, store: StoreConfig, **kwargs: Any) -> sa.Engine:
        """A SQLAlchemy engine on the database of ``store``'s events, for tables an application
        keeps with the events rather than with the read models (user accounts); ``kwargs`` go to
        :func:`sqlalchemy.create_engine` (the pool's size)."""


def rows_fetched(fetch: Callable[[int], list[RawRow]], batch: int) -> Iterator[list[RawRow]]:
    """A cursor's rows in lists of up to ``batch``, until it runs dry."""
    while True:
        rows = fetch(batch)
        if not rows:
            return
        yield rows


def where_positions(after: int, upto: int | None, limit: int | None, col: str, ph: str) -> tuple[str, list[int]]:
    """The ``WHERE ... ORDER BY ... LIMIT`` of a raw read by position (``ph``: the placeholder)."""
    sql, params = f" WHERE {col} > {ph}", [after]
    if upto is not None:
        sql += f" AND {col} <= {ph}"
        params.append(upto)
    sql += f" ORDER BY {col}"
    if limit is not None:
        sql += f" LIMIT {ph}"
        params.append(limit)
    return sql, params


def as_bytes(value: Any) -> bytes | None:
    """A raw column as bytes, whatever the driver handed over (text, an integer, a buffer);
    ``None`` stays ``None``. Never raises on text that is not UTF-8 (surrogates kept)."""
    if value is None or isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape")
    if isinstance(value, int):
        return str(value).encode()
    return bytes(value)

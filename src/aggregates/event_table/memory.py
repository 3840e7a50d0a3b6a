"""The event table of a store in this process's memory (tests, demos): the library's notification
log is all there is to read, and writes happen in this process, so reading it needs no
transaction. It keeps no log seal and has no database of its own: the tables kept beside the
events live in a private in-memory SQLite database for the store's life, made on first use by
the same migrations as a store's (:mod:`aggregates.migrations`, branch ``store``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.pool import StaticPool

from ..store import StoreConfig
from .base import BATCH, Beside, EventTable, RawRow, SealRows, Snapshot, as_bytes
from .sqlite import SQLiteBeside

__all__ = ["MemoryEventTable"]


class MemoryEventTable(EventTable):
    in_memory = True

    def __init__(self, store: StoreConfig, recorder: Any) -> None:
        super().__init__(store, recorder)
        self.recorder = recorder
        # One connection (StaticPool), so one database; opened and migrated on first use.
        self._engine = sa.create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
        self._beside: Any = None
        self._lock = threading.RLock()  # one connection: one transaction at a time

    # ---------------------------------------------------------------- reading the log
    def batches(self, after: int = 0, upto: int | None = None, limit: int | None = None,
                batch: int = BATCH) -> Iterator[list[RawRow]]:
        """Raw rows from the notification log (see :meth:`Snapshot.rows`)."""
        start, seen = after, 0
        while True:
            notes = self.recorder.select_notifications(start, batch, stop=upto, inclusive_of_start=False)
            rows = [(n.id, n.originator_id.hex.encode() if isinstance(n.originator_id, UUID)
                     else as_bytes(n.originator_id), n.originator_version, as_bytes(n.topic), n.state)
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
    def snapshot(self) -> Iterator[Snapshot]:
        yield _MemorySnapshot(self)

    def position_of(self, aggregate_id: UUID, version: int) -> int | None:
        # The library's in-memory recorder has no index from an event to its position: finding
        # it would read the whole log, for a store that lives as long as one test.
        return None

    def stream(self, originator_id: UUID) -> list[RawRow]:
        wanted = originator_id.hex.encode()
        rows = [r for batch in self.batches() for r in batch if r[1] == wanted]
        rows.sort(key=lambda r: r[2])
        return rows

    def log_size(self) -> tuple[int, int]:
        count = top = 0
        for rows in self.batches():
            count, top = count + len(rows), rows[-1][0]
        return count, top

    def sealed_size(self) -> int:
        return self.log_size()[0]

    # ---------------------------------------------------------------- writing beside the log
    def seal_unsealed(self, expected: int, sealed_at: str) -> int:
        return 0  # the library's in-memory recorder keeps no seal to write into

    @contextmanager
    def beside(self) -> Iterator[Beside]:
        with self._lock:
            if self._beside is None:
                from ..migrations import upgrade_connection  # which imports this package

                with self._engine.begin() as conn:
                    upgrade_connection(conn, ("store",))
                self._checked_out = self._engine.raw_connection()  # held for the store's life
                self._beside = self._checked_out.driver_connection
            with self._beside:
                yield SQLiteBeside(self._beside)

    def listen(self) -> None:
        return None


class _MemorySnapshot(Snapshot):
    """The log up to its last position when the snapshot was taken."""

    def __init__(self, table: MemoryEventTable) -> None:
        self.table = table
        self._count, self._top = table.log_size()

    def count(self) -> int:
        return self._count

    def top(self) -> int:
        return self._top

    def rows(self, after: int = 0, upto: int | None = None, limit: int | None = None,
             batch: int = BATCH) -> Iterator[list[RawRow]]:
        return self.table.batches(after, self._top if upto is None else min(upto, self._top), limit, batch)

    def seal_rows(self, seqs: tuple[int, int] | None = None, batch: int = BATCH) -> SealRows | None:
        return None

    def last_seal(self) -> tuple[Any, Any] | None:
        return None

    def seal_at(self, seq: int) -> tuple[Any, Any, Any] | None:
        return None

"""Reading an aggregate's events from SQLite in one statement.

Every command loads the aggregates it decides on, and a cached aggregate is first brought up to
date with the events stored after it (the library's fast-forward), so each command reads the
store at least once, on the thread that holds the write turn (:mod:`aggregates.group_commit`).
The library wraps that read in ``BEGIN`` … ``ROLLBACK``: three statements, each a trip into
SQLite that lets go of the interpreter and waits to take it back from the threads serving HTTP.
A single ``SELECT`` on a connection in autocommit mode (as the library opens them) is already
one read transaction of its own, over one consistent state of the file, so the explicit
transaction adds nothing but the two extra trips. Here the read is that one statement, and
errors are the library's persistence errors, as before. The measured reason is in the README
(Performance, "Commands near the floor").

Only this one-statement read is changed: whatever reads several statements from one state of
the log opens its own snapshot (:meth:`aggregates.event_table.sqlite.SQLiteEventTable.snapshot`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import (
    DatabaseError,
    DataError,
    IntegrityError,
    InterfaceError,
    InternalError,
    NotSupportedError,
    OperationalError,
    PersistenceError,
    ProgrammingError,
    StoredEvent,
)
from eventsourcing.sqlite import SQLiteApplicationRecorder

# The library's own translation of sqlite3's errors (eventsourcing.sqlite.SQLiteTransaction),
# most specific first.
_ERRORS: tuple[tuple[type[sqlite3.Error], type[PersistenceError]], ...] = (
    (sqlite3.InterfaceError, InterfaceError),
    (sqlite3.DataError, DataError),
    (sqlite3.OperationalError, OperationalError),
    (sqlite3.IntegrityError, IntegrityError),
    (sqlite3.InternalError, InternalError),
    (sqlite3.ProgrammingError, ProgrammingError),
    (sqlite3.NotSupportedError, NotSupportedError),
    (sqlite3.DatabaseError, DatabaseError),
)


def persistence_error(error: sqlite3.Error) -> PersistenceError:
    """``error`` as the library's persistence error of the same kind."""
    for raw, ours in _ERRORS:
        if isinstance(error, raw):
            return ours(error)
    return PersistenceError(error)


class OneStatementEventReads(SQLiteApplicationRecorder):
    """The library's SQLite recorder, reading an aggregate's events in one autocommit statement."""

    def select_events(self, originator_id: UUID | str, *, gt: int | None = None, lte: int | None = None,
                      desc: bool = False, limit: int | None = None) -> Sequence[StoredEvent]:
        # The statement is the library's (SQLiteAggregateRecorder.select_events), clause by clause.
        statement = self.select_events_statement
        params: list[Any] = [originator_id.hex if isinstance(originator_id, UUID) else originator_id]
        if gt is not None:
            statement += "AND originator_version>? "
            params.append(gt)
        if lte is not None:
            statement += "AND originator_version<=? "
            params.append(lte)
        statement += "ORDER BY originator_version " + ("DESC " if desc else "ASC ")
        if limit is not None:
            statement += "LIMIT ? "
            params.append(limit)
        with self.datastore.get_connection(commit=False) as conn, conn.cursor() as cursor:
            try:
                rows = cursor.execute(statement, params).fetchall()
            except sqlite3.Error as exc:
                raise persistence_error(exc) from exc
        convert = self.convert_originator_id
        return [StoredEvent(originator_id=convert(row["originator_id"]), originator_version=row["originator_version"],
                            topic=row["topic"], state=row["state"]) for row in rows]

    def log_head(self) -> int:
        """The log's last position (0 while it is empty), in one statement (:mod:`aggregates.log_head`)."""
        statement = f"SELECT MAX(rowid) FROM {self.events_table_name}"  # noqa: S608 - the recorder's own table
        with self.datastore.get_connection(commit=False) as conn, conn.cursor() as cursor:
            try:
                row = cursor.execute(statement).fetchone()
            except sqlite3.Error as exc:
                raise persistence_error(exc) from exc
        return int(row[0] or 0)


__all__ = ["OneStatementEventReads", "persistence_error"]

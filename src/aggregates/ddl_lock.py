"""One process at a time creates tables on PostgreSQL.

Every process of a deployment opening a store creates the event store's tables (the event and
snapshot tables, their composite type and insert function, the seal), and in development
migrates the tables beside them (:mod:`aggregates.migrations`, which ``platforms migrate`` runs
under this lock too): the API workers of ``platforms serve --workers N`` start together, and a
projection runner may start beside them. PostgreSQL does not make ``CREATE ... IF NOT EXISTS``
or ``CREATE OR REPLACE`` safe against a concurrent twin: all but one are refused ("tuple
concurrently updated", "duplicate key value violates unique constraint
pg_type_typname_nsp_index"), and the soak saw an API worker die at start-up and be replaced. So
each creation takes this transaction-scoped advisory lock first; the second process then finds
everything in place. SQLite needs nothing: its writers are serialised by the file's lock (the
migrations take it as they begin, ``BEGIN IMMEDIATE``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import sqlalchemy as sa

__all__ = ["DDL_LOCK", "SerialisedCreateTable", "hold_ddl_lock", "serialised_ddl"]

DDL_LOCK = 0x7AB1E5  # the advisory lock key of table creation ("tables")


def hold_ddl_lock(conn: sa.Connection) -> None:
    """Take the lock for the rest of ``conn``'s transaction (PostgreSQL only)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(%(key)s)", {"key": DDL_LOCK})


@contextmanager
def serialised_ddl(datastore: Any) -> Iterator[None]:
    """Hold the lock, on a connection of the ``eventsourcing`` PostgreSQL ``datastore``'s own,
    while the body creates tables on other connections of it."""
    with datastore.get_connection() as conn, conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (DDL_LOCK,))
        yield


class SerialisedCreateTable:
    """For the library's PostgreSQL recorders: ``create_table`` under the lock."""

    datastore: Any

    def create_table(self) -> None:
        with serialised_ddl(self.datastore):
            super().create_table()  # type: ignore[misc]

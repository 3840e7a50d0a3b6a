"""The log seal (:mod:`aggregates.log_seal`) on PostgreSQL: the library's recorder, sealing each
write after its insert, under the library's table lock, so seal rows are written in commit order."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg.sql import SQL, Identifier

from .ddl_lock import SerialisedCreateTable
from .log_seal import INSERT, TABLE, now, seal_rows, sealed_events

__all__ = ["SealedPostgresRecorder"]


class SealedPostgresRecorder(SerialisedCreateTable, PostgresApplicationRecorder):
    """The library's PostgreSQL recorder, sealing each write under its table lock."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        table = SQL("{}.{}").format(Identifier(self.datastore.schema), Identifier(TABLE))
        self.sql_create_statements.append(SQL(
            "CREATE TABLE IF NOT EXISTS {} (seq bigint PRIMARY KEY, first_index bigint NOT NULL, "
            "first_position bigint NOT NULL, count integer NOT NULL, leaves bytea NOT NULL, "
            "streams text NOT NULL, sealed_at text NOT NULL)").format(table))
        self._seal_statement = SQL(INSERT.replace("{table}", "{t}").replace("{p}", "%s")).format(t=table)

    def _fetch_ids_after_insert_events(self, curs: Any, stored_events: Sequence[StoredEvent],
                                       **kwargs: Any) -> Sequence[int] | None:
        ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        if stored_events:
            for row in seal_rows(sealed_events(stored_events, ids), now()):
                curs.execute(self._seal_statement, row, prepare=True)
        return ids

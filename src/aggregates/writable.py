"""A SQLite store that could not be written is used again as soon as it can be, without a restart.

SQLite opens a file it may not write (a read-only or immutable file, a read-only filesystem)
read-only, and such a connection stays read-only after the file becomes writable again. The
library keeps its connections in a pool, so every later write would be handed one of them and
fail until a restart. Here a connection whose write was refused as read-only is closed instead
of going back to the pool, and a write of events so refused is tried again on another
connection (at most once per connection the pool can hold, each refusal being immediate), so
the first command after the store becomes writable is saved.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteConnection, SQLiteDatastore, SQLiteFactory

READ_ONLY_MESSAGES = ("readonly database", "read-only file system")


def is_read_only(exc: BaseException) -> bool:
    """Whether a database error says the store could not be written because it is read-only."""
    text = str(exc).lower()
    return any(m in text for m in READ_ONLY_MESSAGES)


class RecoveringSQLiteDatastore(SQLiteDatastore):
    """The library's datastore, closing a connection that turned out read-only."""

    @contextmanager
    def get_connection(self, *, commit: bool) -> Iterator[SQLiteConnection]:
        conn = self.pool.get_connection(is_writer=commit)
        try:
            yield conn
        except Exception as exc:
            if is_read_only(exc):
                conn.close()  # a closed connection is not put back: the next one is opened anew
            raise
        finally:
            self.pool.put_connection(conn)

    def write_attempts(self) -> int:
        """How often a write refused as read-only is tried: once per connection the pool may
        hold, and once on a new one."""
        return self.pool.pool_size + self.pool.max_overflow + 1


class RecoveringSQLiteFactory(SQLiteFactory):
    """``PERSISTENCE_MODULE`` for the SQLite event store: the library's factory with a
    :class:`RecoveringSQLiteDatastore`."""

    def __init__(self, env: Any) -> None:
        super().__init__(env)
        plain = self.datastore
        self.datastore = RecoveringSQLiteDatastore(
            db_name=plain.pool.db_name, lock_timeout=plain.pool.lock_timeout,
            single_row_tracking=plain.single_row_tracking, originator_id_type=plain.originator_id_type)
        plain.close()


def insert_retrying_read_only(datastore: Any, insert: Any, stored_events: Sequence[StoredEvent],
                              **kwargs: Any) -> Sequence[int] | None:
    """``insert(stored_events, **kwargs)``, tried again while a read-only connection refuses it
    (each such connection is then closed): the last refusal is raised."""
    attempts = datastore.write_attempts() if isinstance(datastore, RecoveringSQLiteDatastore) else 1
    for _ in range(attempts - 1):
        try:
            return insert(stored_events, **kwargs)
        except Exception as exc:
            if not is_read_only(exc):
                raise
    return insert(stored_events, **kwargs)


__all__ = ["RecoveringSQLiteDatastore", "RecoveringSQLiteFactory", "insert_retrying_read_only", "is_read_only"]

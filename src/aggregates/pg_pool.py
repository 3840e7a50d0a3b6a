"""The PostgreSQL event store's connection pool after the server has ended its sessions (a
restart, a failover, an idle-session timeout, an operator's ``pg_terminate_backend``).

The library retries a failed statement ten times, 0.2 s apart, each time with the next
connection from the pool; when the server has killed every session, the pool holds only dead
ones, and the command fails as "store unavailable" although the database answers (the soak,
``bench/soak.py``, found it: the command after each kill answered 503). The pool's own check
before each use (``POSTGRES_PRE_PING``) is no cure: it backs off 1, 2, 4… seconds between dead
connections, so the command waited some 45 s. Here the first connection that fails makes the
pool test all its idle ones at once, discarding the dead and opening new ones, so the library's
next retry gets a live connection.

Snapshots have a pool of their own, of at most two connections. libpq keeps each connection's
receive buffer at the size of the largest row it has read, and a platform's snapshot (every
objection it received, every act) is the largest row there is; spread over the twenty
connections of the events' pool, those buffers grew a worker's memory by some 10 MB in the soak
although nothing was retained. Snapshots are read on a cache miss and written every 50 events,
so two connections are plenty.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from eventsourcing.persistence import AggregateRecorder, InterfaceError, OperationalError
from eventsourcing.postgres import PostgresAggregateRecorder, PostgresDatastore, PostgresFactory
from eventsourcing.utils import Environment

from .ddl_lock import SerialisedCreateTable

log = logging.getLogger(__name__)


class PurgingPostgresDatastore(PostgresDatastore):
    """The library's datastore, whose pool is purged of dead connections when one fails."""

    @contextmanager
    def get_connection(self) -> Iterator[Any]:
        try:
            with super().get_connection() as conn:
                yield conn
        except (OperationalError, InterfaceError) as exc:
            log.warning("event store connection failed; testing the pooled ones",
                        extra={"error": f"{exc.__class__.__name__}: {exc}"})
            self.pool.check()
            raise


class SerialisedAggregateRecorder(SerialisedCreateTable, PostgresAggregateRecorder):
    """The library's aggregate recorder (the snapshots'), its tables created under the DDL lock."""


SNAPSHOT_POOL = {"POSTGRES_POOL_SIZE": "1", "POSTGRES_MAX_OVERFLOW": "1"}  # at most two connections


class PurgingPostgresFactory(PostgresFactory):
    """``PERSISTENCE_MODULE`` for the PostgreSQL event store: the library's factory with a
    :class:`PurgingPostgresDatastore`, and another, smaller one for the snapshots. The library
    builds its datastore inside ``__init__`` from some twenty settings; changing the built
    object's class keeps every one of them, and the snapshots' datastore is built from the same
    settings but the pool's size."""

    aggregate_recorder_class = SerialisedAggregateRecorder

    def __init__(self, env: Any) -> None:
        super().__init__(env)
        self.datastore.__class__ = PurgingPostgresDatastore
        smaller = {key: size for name, size in SNAPSHOT_POOL.items() for key in self.env.create_keys(name)}
        self.snapshot_datastore = PostgresFactory(Environment(self.env.name, {**self.env, **smaller})).datastore
        self.snapshot_datastore.__class__ = PurgingPostgresDatastore

    def aggregate_recorder(self, purpose: str = "events") -> AggregateRecorder:
        if purpose != "snapshots":
            return super().aggregate_recorder(purpose)
        recorder = self.aggregate_recorder_class(
            datastore=self.snapshot_datastore,
            events_table_name=(self.env.name.lower() or "stored") + "_" + purpose,
        )
        if self.env_create_table():
            recorder.create_table()
        return recorder

    def __enter__(self) -> PurgingPostgresFactory:
        super().__enter__()
        self.snapshot_datastore.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        try:
            self.snapshot_datastore.__exit__(*exc)
        finally:
            super().__exit__(*exc)

    def close(self) -> None:
        try:
            self.snapshot_datastore.close()
        finally:
            super().close()

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
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError
from eventsourcing.postgres import PostgresDatastore, PostgresFactory

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


class PurgingPostgresFactory(PostgresFactory):
    """``PERSISTENCE_MODULE`` for the PostgreSQL event store: the library's factory with a
    :class:`PurgingPostgresDatastore`. The library builds its datastore inside ``__init__``
    from some twenty settings; changing the built object's class keeps every one of them."""

    def __init__(self, env: Any) -> None:
        super().__init__(env)
        self.datastore.__class__ = PurgingPostgresDatastore

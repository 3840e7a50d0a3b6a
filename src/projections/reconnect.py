"""Surviving a lost database connection (断线重连) in the process that follows the log.

A PostgreSQL backend can vanish at any moment (a server restart, a failover, an administrator's
``pg_terminate_backend``, a network cut). The runner must not exit then, nor retry in a tight
loop: it waits, doubling the pause up to a cap, and tries again, logging the loss once with the
error and each failed attempt, and the recovery with how long it took. Nothing else needs
restoring: a batch writes its rows and the models' positions in one transaction, so a batch cut
short is rolled back and the next attempt resumes from the stored positions.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable

import sqlalchemy as sa
from eventsourcing import persistence as es

log = logging.getLogger(__name__)

FIRST_DELAY_S = 0.1
MAX_DELAY_S = 10.0


def is_connection_loss(exc: BaseException) -> bool:
    """Whether ``exc`` says the database could not be reached or dropped the connection (or
    another transient operational failure that a later attempt may not meet), as opposed to a
    fault of the work itself (bad data, a bug), which retrying cannot mend. SQLite has no
    connection to lose: its errors (a lock, a read-only file) are left to the caller."""
    if isinstance(getattr(exc, "orig", None), sqlite3.Error) or isinstance(exc, sqlite3.Error):
        return False
    if isinstance(exc, (es.OperationalError, es.InterfaceError, sa.exc.OperationalError, sa.exc.InterfaceError)):
        return True
    if isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated:
        return True
    try:
        import psycopg
    except ImportError:  # SQLite-only installation
        return False
    return isinstance(exc, (psycopg.OperationalError, psycopg.InterfaceError))


class Backoff:
    """Capped exponential backoff around one connection, with its loss and recovery logged.

    ``failed(exc)`` records a failed attempt and returns how long to wait before the next;
    ``succeeded()`` ends an outage (logging the recovery) and resets the pause."""

    def __init__(self, what: str, first: float = FIRST_DELAY_S, cap: float = MAX_DELAY_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.what = what
        self.first = first
        self.cap = cap
        self.clock = clock
        self.attempts = 0
        self.delay = first
        self.lost_at: float | None = None

    @property
    def down(self) -> bool:
        return self.lost_at is not None

    def failed(self, exc: BaseException) -> float:
        if self.lost_at is None:
            self.lost_at = self.clock()
            self.delay = self.first
            log.warning("%s: connection lost (%s); reconnecting", self.what, _one_line(exc),
                        extra={"connection": self.what, "error": _one_line(exc)})
        else:
            self.delay = min(self.cap, self.delay * 2)
            log.warning("%s: reconnection attempt %d failed (%s); next in %.1f s", self.what, self.attempts,
                        _one_line(exc), self.delay,
                        extra={"connection": self.what, "attempt": self.attempts, "error": _one_line(exc)})
        self.attempts += 1
        return self.delay

    def succeeded(self) -> None:
        if self.lost_at is None:
            return
        down_s = round(self.clock() - self.lost_at, 3)
        log.warning("%s: reconnected after %d attempt(s), %.1f s without a connection", self.what,
                    self.attempts, down_s, extra={"connection": self.what, "attempts": self.attempts,
                                                  "down_s": down_s})
        self.lost_at = None
        self.attempts = 0
        self.delay = self.first


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


__all__ = ["Backoff", "is_connection_loss"]

"""Surviving a lost database connection (断线重连) in the process that follows the log.

A PostgreSQL backend can vanish at any moment (a server restart, a failover, an administrator's
``pg_terminate_backend``, a network cut). The runner must not exit then, nor retry in a tight
loop: it waits, doubling the pause up to a cap, and tries again, logging the loss once with the
error and each failed attempt, and the recovery with how long it took. Nothing else needs
restoring: a batch writes its rows and the models' positions in one transaction, so a batch cut
short is rolled back and the next attempt resumes from the stored positions.

Which failures are worth another attempt is decided here, once, for every caller: the runner's
batches (:func:`is_transient`), and its reconnection, ``platforms projections run`` and the API's
reads (:func:`is_connection_loss`).
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable

import psycopg
import sqlalchemy as sa
from eventsourcing import persistence as es

log = logging.getLogger(__name__)

FIRST_DELAY_S = 0.1
MAX_DELAY_S = 10.0


# What says the database could not be reached, dropped the connection, or could not be used just
# now, as each layer raises it: the library's wrappers, SQLAlchemy's, the driver's own (the LISTEN
# connection and the raw readers use psycopg directly), and the operating system's.
_UNAVAILABLE = (es.OperationalError, es.InterfaceError, sa.exc.OperationalError, sa.exc.InterfaceError,
                sa.exc.DisconnectionError, psycopg.OperationalError, psycopg.InterfaceError, ConnectionError,
                TimeoutError)


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` says the store could not be reached or used just now (a lost connection;
    on SQLite also a lock held too long or a file that cannot be written yet), so that a later
    attempt may pass; as opposed to a fault of the work itself (bad data, a bug), which retrying
    cannot mend."""
    return isinstance(exc, _UNAVAILABLE) or (isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated)


def is_connection_loss(exc: BaseException) -> bool:
    """Whether ``exc`` is a transient failure (:func:`is_transient`) of a connection that can be
    lost and made again: worth reconnecting with backoff. SQLite has no connection to lose: its
    errors (a lock, a read-only file) are left to the caller."""
    if isinstance(getattr(exc, "orig", None), sqlite3.Error) or isinstance(exc, sqlite3.Error):
        return False
    return is_transient(exc)


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


__all__ = ["Backoff", "is_connection_loss", "is_transient"]

"""The projection runner (投影运行器): follows the event log and keeps the read models current.

Exactly once: each batch reads the models' positions, applies the notifications after them and
writes the rows *and* the new positions in one database transaction. A crash anywhere in a
batch rolls all of it back; the restart resumes from the stored positions.

No event is skipped. The runner follows notification ids in order, which is safe only if ids
become visible in id order:

* SQLite serializes writers: an id (rowid) is assigned under the database write lock and the
  transaction commits before the next writer gets one.
* PostgreSQL: the ``eventsourcing`` recorder takes ``LOCK TABLE ... IN EXCLUSIVE MODE`` on the
  events table before inserting, so ids are assigned in commit order; a transaction that took a
  lower id has committed before a higher one can be assigned. (Without that lock a sequence
  hands out ids at insert time and a follower could pass a gap that a slower transaction fills
  later.) ``tests/test_projections_concurrency.py`` checks this with concurrent writers.

Several runners may share a PostgreSQL store (several API processes, or ``platforms
projections run``): each batch locks the models' position rows (``SELECT ... FOR UPDATE``), so
batches are serialized and a runner that waited sees the positions its rival committed.
On SQLite the runner follows the log in-process (the library's subscriptions need PostgreSQL);
on PostgreSQL the background loop also LISTENs on the recorder's NOTIFY channel
(:meth:`aggregates.event_table.EventTable.listen`).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from eventsourcing.application import Application
from eventsourcing.persistence import Notification

from aggregates.event_table import event_table

from .db import write_transaction
from .failures import Failures
from .projector import Projector
from .reconnect import Backoff, is_connection_loss, is_transient
from .tables import LIVE, MODELS, positions_table

log = logging.getLogger(__name__)


# Positions are read and written in every projection batch (several a second under load): as
# plain SQL, so that no SQLAlchemy expression is built and cache-keyed each time.
_SELECT_POSITIONS = f'SELECT name, position FROM "{positions_table.name}" ORDER BY name'  # one lock order  # noqa: S608 - fixed names
_UPDATE_POSITION = f'UPDATE "{positions_table.name}" SET position = {{mark}} WHERE name = {{mark}}'  # noqa: S608 - fixed names


def read_positions(conn: sa.Connection, models: Iterable[str] = MODELS, lock: bool = False) -> dict[str, int]:
    """Each model's position; with ``lock`` on PostgreSQL the rows are locked (``FOR UPDATE``)
    until the transaction ends, which serializes the batches of several runners."""
    sql = _SELECT_POSITIONS + (" FOR UPDATE" if lock and conn.dialect.name == "postgresql" else "")
    found = {name: int(pos) for name, pos in conn.exec_driver_sql(sql)}
    return {m: found.get(m, 0) for m in models}


def write_positions(conn: sa.Connection, positions: dict[str, int]) -> None:
    if not positions:
        return
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    conn.exec_driver_sql(_UPDATE_POSITION.format(mark=mark), [(p, n) for n, p in positions.items()])


def max_position(app: Application) -> int:
    return int(app.recorder.max_notification_id() or 0)


def log_batches(app: Application, after: int = 0, chunk: int = 5000,
                upto: int | None = None) -> Iterator[Sequence[Notification]]:
    """The notification log after position ``after``, in order, ``chunk`` notifications at a
    time, until its current end (or position ``upto``)."""
    while True:
        batch = app.recorder.select_notifications(after + 1, chunk, stop=upto, inclusive_of_start=True)
        if not batch:
            return
        yield batch
        after = batch[-1].id


class ReadModelRunner:
    """Feeds every read model from ``app``'s notification log into ``engine``'s tables."""

    def __init__(
        self, app: Application, engine: sa.Engine, models: Iterable[str] = MODELS,
        batch_size: int = 500, cache_size: int = 4096, coalesce: float = 0.05,
    ) -> None:
        self.app = app
        self.engine = engine
        self.models = tuple(models)
        self.batch_size = batch_size
        self.projector = Projector(app, self.models, cache_size=cache_size)
        self.projector.bind(LIVE)
        self._wake = threading.Event()
        self._urgent = threading.Event()
        self.coalesce = coalesce
        # How many commands are waiting to write (set by whoever queues them, e.g. SQLite's
        # group commit); None when unknown, and then batches are never delayed.
        self.pressure: Callable[[], int] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._processed = threading.Condition()
        self.position = 0
        self.on_batch: Callable[[int], None] | None = None  # observers (tests, benchmarks)
        # Models stopped at an event they cannot apply: never retried by this runner, reported
        # in /readyz and `platforms projections status` until a fixed runner or a rebuild passes it.
        self.failures = Failures(engine, self.models)

    # ------------------------------------------------------------------ one pass
    def catch_up(self) -> int:
        """Process everything recorded so far; returns the lowest model position."""
        while True:
            done, position = self._one_batch()
            if done:
                return position

    def _one_batch(self) -> tuple[bool, int]:
        projector = self.projector
        projector.reset()
        notifications: Sequence[Notification] = []
        try:
            with write_transaction(self.engine) as conn:
                positions = read_positions(conn, self.models, lock=True)
                live = {m: p for m, p in positions.items() if m not in self.failures.stopped}
                if not live:
                    return True, min(positions.values())
                start = min(live.values())
                notifications = self.app.recorder.select_notifications(
                    start + 1, self.batch_size, inclusive_of_start=True)
                if not notifications:
                    self._publish(min(positions.values()))
                    return True, start
                for n in notifications:
                    behind = tuple(m for m in live if live[m] < n.id)
                    projector.process_notification(n, behind)
                last = notifications[-1].id
                projector.flush(conn)
                advanced = [m for m in live if live[m] < last]
                write_positions(conn, {m: last for m in advanced})
                self.failures.clear_passed(conn, advanced, last)
        except Exception as exc:
            projector.reset()
            if not notifications or is_transient(exc):
                raise
            # Something in this batch cannot be applied: find the event, one at a time, and
            # stop the models that cannot apply it instead of retrying the batch forever.
            self._isolate(notifications)
            return False, start
        except BaseException:
            projector.reset()
            raise
        self._publish(min({**positions, **{m: last for m in advanced}}.values()))
        if self.on_batch is not None:
            self.on_batch(last)
        return len(notifications) < self.batch_size, last

    def _isolate(self, notifications: Sequence[Notification]) -> None:
        """Apply ``notifications`` one by one; at one that fails, apply it model by model and
        stop (:meth:`Failures.stop`) each model that still cannot. Healthy models go on."""
        for n in notifications:
            try:
                self._apply_one(n, self.models)
            except Exception as exc:  # classified below
                if is_transient(exc):
                    raise
                for model in self.models:
                    try:
                        self._apply_one(n, (model,))
                    except Exception as why:  # classified below
                        if is_transient(why):
                            raise
                        self.failures.stop(model, n, why)

    def _apply_one(self, n: Any, models: tuple[str, ...]) -> None:
        """One notification, for those of ``models`` still following and behind it, in its own
        transaction (with their positions)."""
        projector = self.projector
        projector.reset()
        try:
            with write_transaction(self.engine) as conn:
                positions = read_positions(conn, self.models, lock=True)
                behind = tuple(m for m in models if positions[m] < n.id and m not in self.failures.stopped)
                if not behind:
                    return
                projector.process_notification(n, behind)
                projector.flush(conn)
                write_positions(conn, {m: n.id for m in behind})
                self.failures.clear_passed(conn, list(behind), n.id)
        finally:
            projector.reset()

    def _publish(self, position: int) -> None:
        with self._processed:
            self.position = max(self.position, position)
            self._processed.notify_all()

    # ------------------------------------------------------------------ freshness
    def positions(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            return read_positions(conn, self.models)

    def status(self) -> list[dict[str, Any]]:
        """Each model's position and lag (events recorded but not yet applied), and for a model
        stopped at an event it cannot apply, ``failure``: its position, event and reason."""
        head = max_position(self.app)
        recorded = self.failures.recorded()
        return [{"name": n, "position": p, "lag": max(0, head - p),
                 **({"failure": recorded[n]} if n in recorded else {})} for n, p in self.positions().items()]

    def wait_for(self, position: int, timeout: float = 5.0) -> bool:
        """Block (at most ``timeout`` seconds) until every model has processed ``position``,
        so that a client reads its own writes. True when reached."""
        # Count fixed steps rather than reading a clock: a frozen clock (freezegun in tests)
        # must not turn a bounded wait into an endless one.
        step = 0.02
        steps = max(1, int(timeout / step))
        self.notify(urgent=True)
        for _ in range(steps + 1):
            if self.position >= position or min(self.positions().values()) >= position:
                return True
            if self._thread is None:
                # Nobody follows in this process: do the work here (SQLite, tests, CLI).
                try:
                    self.catch_up()
                except Exception:  # the caller sees False; the log says why
                    log.exception("projection catch-up failed")
                    time.sleep(step)
                if self.position >= position:
                    return True
                if self.position >= max_position(self.app):
                    time.sleep(step)  # nothing more to process yet: the position is ahead of the log
                continue
            with self._processed:
                self._processed.wait(step)
        return False

    # ------------------------------------------------------------------ following
    def notify(self, urgent: bool = False) -> None:
        """Wake the background loop (call after a command). ``urgent``: a reader is waiting for
        a position, so skip the short gathering pause (:attr:`coalesce`)."""
        if urgent:
            self._urgent.set()
        self._wake.set()

    def _under_pressure(self) -> bool:
        return self.pressure is not None and self.pressure() > 0

    def start_background(self, poll_interval: float = 0.2) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self.run_forever, args=(poll_interval,),
                                        name="read-model-runner", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._urgent.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def run_forever(self, poll_interval: float = 0.2) -> None:
        """Follow the log until :meth:`stop` (the loop of ``platforms projections run``)."""
        listener = _Listener(self.app)
        database = Backoff("read models")
        try:
            while not self._stop.is_set():
                try:
                    self.catch_up()
                except Exception as exc:  # keep following; the failed batch is retried
                    if is_connection_loss(exc):
                        # Rolled back with its positions: the next attempt resumes from them.
                        self._stop.wait(database.failed(exc))
                        continue
                    # Otherwise only a transient failure (the store unreachable) gets here: an
                    # event that cannot be applied stops its models in _one_batch.
                    log.exception("projection batch failed; retrying")
                    self._stop.wait(poll_interval)
                    continue
                database.succeeded()
                woken = listener.wait(poll_interval, self._wake)
                self._wake.clear()
                if woken and self.coalesce > 0 and not self._urgent.is_set() and self._under_pressure():
                    # Commands are queued to write: more events are milliseconds away. Gather
                    # them for the next batch, whose fixed cost (a transaction, the positions,
                    # each changed row rendered once) is many times one event's. Lag grows by at
                    # most this; a lone command is still applied at once.
                    self._urgent.wait(self.coalesce)
                self._urgent.clear()
        finally:
            listener.close()


class _Listener:
    """Waits for the store to announce new events (PostgreSQL: LISTEN on the recorder's NOTIFY
    channel; the recorder NOTIFYs in every insert transaction, delivered at commit, so the loop
    wakes as soon as events commit), or for the poll interval where it announces nothing.

    A lost LISTEN connection is reopened with backoff; meanwhile the loop follows by polling,
    and the wait after a loss or a reconnection reports a wake-up, so the events whose
    notifications were missed are read at once."""

    def __init__(self, app: Application, clock: Callable[[], float] = time.monotonic) -> None:
        self.table = event_table(app)
        self.conn: Any = None
        self.clock = clock
        self.backoff = Backoff("LISTEN")
        self.retry_at = 0.0
        self._connect()

    def _connect(self) -> bool:
        try:
            conn = self.table.listen()
        except Exception as exc:  # noqa: BLE001 - polling still works without notifications
            self.retry_at = self.clock() + self.backoff.failed(exc)
            return False
        if conn is None:  # a store that announces nothing: polling is all there is
            self.retry_at = math.inf
            return False
        self.conn = conn
        self.backoff.succeeded()
        return True

    def _lost(self, exc: BaseException) -> None:
        self.close()
        self.retry_at = self.clock() + self.backoff.failed(exc)

    def wait(self, timeout: float, wake: threading.Event) -> bool:
        """Wait (at most ``timeout``) for a notification or ``wake``: True if one came, or if the
        connection was lost or reopened (notifications may have been missed)."""
        if self.conn is None:
            if self.clock() < self.retry_at or not self._connect():
                return wake.wait(timeout)
            return True
        step = min(timeout, 0.05)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                if wake.is_set():
                    return True
                for _ in self.conn.notifies(timeout=step, stop_after=1):
                    return True
        except Exception as exc:  # noqa: BLE001 - is_connection_loss or not, the connection is unusable
            self._lost(exc)
            return True
        return False

    def close(self) -> None:
        if self.conn is not None:
            conn, self.conn = self.conn, None
            try:
                conn.close()
            except Exception:  # closing a dead connection may complain; it is gone either way
                log.debug("closing the LISTEN connection failed", exc_info=True)


__all__ = ["ReadModelRunner", "read_positions", "write_positions", "max_position"]

"""The deadline watch (期限守护): deadlines that act by themselves.

A missed acceptance application deadline (Art. 9(1)) is a fact of the record, put to the bureau,
which terminates the project or admits a late application (docs/DOMAIN.md). Nobody remembers to
record it, so the process that follows the log (``platforms serve`` on SQLite, ``platforms
projections run`` on PostgreSQL; see the README) does: at start-up and every ``every_seconds``
it reads the deadlines read model for acceptance deadlines passed before today (Asia/Shanghai)
with no miss recorded, and records each through :meth:`RegistryApp.record_acceptance_deadline_missed`.

This process owns the clock: ``today`` is read here and handed to the domain, which reads none.
Exactly once: the domain refuses a second record of the same miss
(``acceptance_deadline_miss_recorded``), and two watches that record it at the same moment
race on the platform's version, so the loser is decided again on the saved state and gets that
refusal; a restarted watch reads the recorded miss from the read model or, if that lags, is
refused the same way. A deadline whose year's working-day schedule is not loaded is skipped:
pending, never guessed (:class:`~aggregates.errors.CalendarNotLoaded`). While an archive import
is running (:mod:`api.archive_import`: started and not completed, or interrupted and not yet
resumed) a pass records nothing: the past programme's platforms cross their deadlines between
its back-dated acts, and the acts that met them are still to come.

:meth:`DeadlineWatch.tick` is one pass, on the caller's day, so tests run it without threads;
:meth:`start` runs it in a daemon thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import date
from uuid import UUID

import sqlalchemy as sa

from aggregates.application import RegistryApp
from aggregates.clock import today_in_shanghai
from aggregates.errors import CalendarNotLoaded, NotFound, RuleViolation

from .queries import missed_acceptance_deadlines

__all__ = ["DeadlineWatch", "RECORDER"]

log = logging.getLogger(__name__)

RECORDER = "deadline-watch"  # the actor id of the watch's acts (role system)

# Refusals that mean "nothing to record here (any more)": recorded by a rival or an earlier run,
# the platform moved on (applied, terminated) since the read model saw it, or not yet missed.
_NOTHING_TO_DO = frozenset({"acceptance_deadline_miss_recorded", "wrong_stage", "acceptance_deadline_not_passed"})


class DeadlineWatch:
    """Records missed acceptance deadlines, once each, as they pass."""

    def __init__(self, app: RegistryApp, engine: sa.Engine, every_seconds: float = 300.0,
                 today: Callable[[], date] = today_in_shanghai,
                 on_recorded: Callable[[], None] | None = None) -> None:
        self.app = app
        self.engine = engine
        self.every_seconds = every_seconds
        self._today = today
        self._on_recorded = on_recorded  # e.g. wake the in-process projection runner
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: str | None = None  # the last pass could not run (store unreachable)

    def tick(self) -> list[UUID]:
        """One pass on today's date: record every miss due and not yet recorded; returns the
        platforms this pass recorded. Never raises: a pass that cannot run is logged and the
        next one tries again."""
        with self._lock:
            try:
                recorded = self._pass(self._today())
            except Exception as exc:  # a store that does not answer now may answer later
                self.error = f"{type(exc).__name__}: {exc}"
                log.warning("deadline watch could not run", exc_info=True)
                return []
            self.error = None
            return recorded

    def _pass(self, today: date) -> list[UUID]:
        app = self.app
        with self.engine.connect() as conn:
            due = missed_acceptance_deadlines(conn, today, app.calendar, app.policies)
        # While an archive is imported, its platforms pass their past deadlines between its
        # back-dated acts: a miss recorded today would fall between them. Asked after the work
        # list was read: an import's platforms reach the read models only after it started.
        running = app.imports_running() if due else []
        if running:
            log.info("deadline watch waits: an archive import is running", extra={"archives": running})
            return []
        recorded = []
        for pid in map(UUID, due):
            try:
                app.record_acceptance_deadline_missed(pid, today=today, recorder=RECORDER)
            except CalendarNotLoaded:
                continue  # its year's schedule is not loaded: pending
            except NotFound:
                continue  # the read model names a platform the store no longer has (a test store reset)
            except RuleViolation as exc:
                if exc.code not in _NOTHING_TO_DO:  # a rule this pass cannot satisfy: said, not retried in a loop
                    log.error("acceptance deadline miss not recorded", extra={"platform_id": str(pid),
                                                                             "code": exc.code, "reason": exc.message})
                continue
            recorded.append(pid)
            log.info("acceptance deadline missed: recorded", extra={"platform_id": str(pid), "today": str(today)})
        if recorded and self._on_recorded is not None:
            self._on_recorded()
        return recorded

    # ------------------------------------------------------------------ the thread
    def start(self) -> None:
        """Run a pass now (in the thread) and then every ``every_seconds``."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="deadline-watch", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.tick()
            self._stop.wait(self.every_seconds)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

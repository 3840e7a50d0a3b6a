"""The integrity watch (完整性守护): the serving process checks the log by itself and, where it is
the designated signer, signs checkpoints on a schedule.

A checkpoint only protects what it covers, and nobody remembers to ask for one: so the process
that writes (``platforms serve`` on SQLite, ``platforms projections run`` on PostgreSQL; see the
README) signs one within ``every_seconds`` of the first event it does not cover, or as soon as
``every_events`` are uncovered, and at start-up when the log has grown. Every serving process
also verifies the whole log against its checkpoints at start-up and every ``check_seconds``. A
failure is an alarm at ERROR in the log, makes ``/readyz`` answer not ready with the finding,
and stops the signing: signing over a broken log would launder the tampering.

:meth:`IntegrityWatch.tick` is one step of the loop, driven by the caller's clock, so tests run
it without threads or sleeping; :meth:`start` runs it in a daemon thread.

On a long log (``isolate_from`` events or more, in a file or server store) the verification runs
in a worker process of its own: it is seconds of pure interpreter work, which in the serving
process would hold the interpreter lock and delay every request meanwhile. The worker is started
once and kept; it opens the same store and verifies it exactly as ``platforms audit verify`` does.
A short log is verified in a fraction of a second, less than starting the worker takes.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aggregates.application import RegistryApp
from aggregates.event_table import event_table
from aggregates.store import StoreConfig

from .checkpoint_store import latest_checkpoint
from .checkpoints import LogNotIntact, SignerNotPinned, sign_checkpoint
from .keys import CheckpointKeys
from .seal_upgrade import needs_sealing, seal_existing_log
from .signing import CheckpointSigner
from .verify import VerifyReport, verify_log

__all__ = ["WatchConfig", "IntegrityWatch"]

log = logging.getLogger(__name__)

# Rows per round trip when the watch verifies in this process: a serving process keeps the peak
# of what it held, and 500 rows cost the scan no measurable speed (see verify_log's batch).
IN_PROCESS_BATCH = 500


@dataclass(frozen=True)
class WatchConfig:
    """When to sign and when to check (``PLATFORMS_CHECKPOINT_*``, ``PLATFORMS_INTEGRITY_CHECK_SECONDS``)."""

    sign: bool
    every_seconds: float = 60.0
    every_events: int = 1000
    check_seconds: float = 600.0
    poll_seconds: float = 1.0
    isolate_from: int = 20_000  # from this log position on, verify in a worker process


class IntegrityWatch:
    """Checks the log against its checkpoints, and signs new ones where this process is the signer."""

    def __init__(self, app: Any, config: WatchConfig, signer: Callable[[], CheckpointSigner],
                 clock: Callable[[], float] = time.monotonic, *, keys: CheckpointKeys) -> None:
        self.app = app
        self.config = config
        self._signer = signer
        self._keys = keys  # the pinned key every verification checks checkpoints against
        self._clock = clock
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._checked_at: float | None = None  # clock time of the last full verification
        self._pending_since: float | None = None  # clock time the log was first seen uncovered
        self._started = False  # whether a signing opportunity has come since start-up
        self._failures = 0  # ticks in a row that could not run
        self._retry_at = 0.0  # after a failure, no tick before this clock time (backing off)
        self._pool: ProcessPoolExecutor | None = None
        self.report: VerifyReport | None = None
        self.checked_instant: str | None = None
        self.error: str | None = None  # the watch itself could not run (store unreachable)

    # ------------------------------------------------------------------ what /readyz shows
    @property
    def intact(self) -> bool | None:
        """True: verified; False: a finding; None: not verified yet."""
        return None if self.report is None else self.report.ok

    def status(self) -> dict[str, Any]:
        report = self.report
        first = report.first_failure if report is not None else None
        return {
            "status": "unchecked" if report is None else "intact" if report.ok else "broken",
            "checked_at": self.checked_instant,
            "events_checked": report.events_checked if report is not None else None,
            "first_failure": first.to_dict() if first is not None else None,
            "failure_count": report.failure_count if report is not None else 0,
            "latest_checkpoint": report.latest_checkpoint if report is not None else None,
            "signing": self.config.sign and (report is None or report.ok),
            "error": self.error,
        }

    # ------------------------------------------------------------------ the loop
    def tick(self) -> None:
        """One step: verify when due, then sign when due. Never raises."""
        with self._lock:
            now = self._clock()
            if now < self._retry_at:
                return
            try:
                if self._checked_at is None or now - self._checked_at >= self.config.check_seconds:
                    self._check(now)
                if self.config.sign and self.report is not None and self.report.ok:
                    self._maybe_sign(now)
                self.error, self._failures = None, 0
            except Exception as exc:  # a store that does not answer now may answer later
                # Back off (2, 4 ... 60 s) so that a store that is down is not asked every second.
                self._failures += 1
                self._retry_at = now + min(60.0, 2.0 ** self._failures)
                self.error = f"{type(exc).__name__}: {exc}"
                log.warning("integrity watch could not run", exc_info=True,
                            extra={"failures": self._failures, "retry_in_s": self._retry_at - now})

    def verify_now(self) -> VerifyReport:
        """The whole log verified as ``platforms audit verify`` does (an empty log is a finding),
        in the worker process on a long log, as the watch verifies; for the workbench's "verify
        now". It waits for a tick in progress, and records nothing: the watch's own status
        changes only by its own checks."""
        with self._lock:
            return self._verify(self.app)

    def _verify(self, app: Any, allow_empty: bool = False) -> VerifyReport:
        """The whole log verified, in the worker process where there is one."""
        pinned, retired = self._keys.pinned_public_key(), self._keys.retired_keys()
        if event_table(app).in_memory or int(app.recorder.max_notification_id() or 0) < self.config.isolate_from:
            return verify_log(app, public_key_pem=pinned, retired_keys=retired, allow_empty=allow_empty,
                              batch=IN_PROCESS_BATCH)
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        try:
            return self._pool.submit(_verify_store, app.store.url, pinned, retired, allow_empty).result()
        except BrokenProcessPool:
            self._pool = None  # the worker died (killed, out of memory): a new one next time
            raise

    def _check(self, now: float) -> None:
        report = self._verify(self.app, allow_empty=True)  # a fresh deployment's empty log is intact
        if self.config.sign and needs_sealing(report):
            stamp = datetime.now(UTC).isoformat(timespec="microseconds")
            if seal_existing_log(self.app, report.events_checked, stamp):
                report = self._verify(self.app, allow_empty=True)
        self._record(report, now)

    def _record(self, report: VerifyReport, now: float) -> None:
        was = self.report
        self.report = report
        self._checked_at = now
        self.checked_instant = datetime.now(UTC).isoformat(timespec="seconds")
        if not report.ok:
            first = report.first_failure
            log.error("AUDIT ALARM: the event log does not verify; checkpoint signing stopped",
                      extra={"failure_count": report.failure_count,
                             "first_failure": first.to_dict() if first is not None else None})
        elif was is not None and not was.ok:
            log.warning("the event log verifies again", extra={"events_checked": report.events_checked})

    def _maybe_sign(self, now: float) -> None:
        latest = latest_checkpoint(self.app)
        uncovered = event_table(self.app).sealed_size() - (latest.size if latest is not None else 0)
        if uncovered <= 0:
            self._pending_since = None
            self._started = True
            return
        starting, self._started = not self._started, True  # at start-up, a grown log is signed at once
        if self._pending_since is None:
            self._pending_since = now
        due = (starting or uncovered >= self.config.every_events
               or now - self._pending_since >= self.config.every_seconds)
        if not due:
            return
        try:
            checkpoint = sign_checkpoint(self.app, self._signer(), self._keys, verify=self._verify)
        except SignerNotPinned:
            # Not a finding about the log: the key files disagree (a rotation under way, or a
            # key file replaced by hand). The tick backs off and tries again, with the signer
            # loaded anew; a replaced key keeps being refused, and the checkpoint age grows.
            log.error("checkpoint signing refused: the signing key is not the pinned key",
                      extra={"pinned": str(self._keys.pinned), "key": str(self._keys.private)})
            raise
        except LogNotIntact as exc:
            self._record(exc.report, now)
            return
        self._pending_since = None
        log.info("checkpoint signed", extra={"size": checkpoint.size, "root": checkpoint.root_hex})

    # ------------------------------------------------------------------ the thread
    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="integrity-watch", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.tick()
            self._stop.wait(self.config.poll_seconds)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def _verify_store(url: str, pinned: bytes | None, retired: bytes | None, allow_empty: bool) -> VerifyReport:
    """In the worker process: open the store (creating nothing) and verify it."""
    app = RegistryApp(StoreConfig(url), env={"CREATE_TABLE": "no"})
    try:
        return verify_log(app, public_key_pem=pinned, retired_keys=retired, allow_empty=allow_empty)
    finally:
        app.close()

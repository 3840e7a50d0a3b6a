"""The one place where the pieces are wired together: settings → event store (RegistryApp),
read-model engine and runner, users, checkpoint signer.

Every entry point (the HTTP app, each CLI verb, the demo, the tests) builds a
:class:`Container` here, so a setting means the same thing everywhere.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from aggregates.application import RegistryApp

from .login_throttle import LoginThrottle, ThrottleLimits
from .metrics import CommandMetrics
from .read_cache import RenderedReads
from .registry_wiring import build_registry, pool_options, prepare_schema
from .settings import Settings
from .users import UserRepository, users_engine

log = logging.getLogger(__name__)


@dataclass
class Container:
    """The wired service: ``app`` (commands and the event store), ``engine`` (read models),
    ``runner`` (keeps the read models up to date), ``users`` (accounts, in the event store's
    database)."""

    settings: Settings
    app: RegistryApp
    engine: Engine
    runner: Any
    users: UserRepository
    throttle: LoginThrottle  # failed sign-ins, beside the accounts
    # Rendered publicity list, subfield registry and ledger, reused until the read models move.
    reads: RenderedReads = field(default_factory=RenderedReads)
    # The integrity watch (audit.watch): checks the log, and signs checkpoints where this
    # process is the signer; its status is part of /readyz.
    watch: Any = None
    # The deadline watch (projections.deadline_watch): records missed acceptance deadlines,
    # where this process runs the projection runner.
    deadlines: Any = None
    _signer: Any = None
    _signer_file: tuple[int, int] | None = None  # the key file the signer was loaded from
    _signer_lock: threading.Lock = field(default_factory=threading.Lock)
    _background: bool = False

    def checkpoint_signer(self) -> Any:
        """The audit checkpoint signer, loaded (or created, 0600, its public key pinned) on first
        use, and loaded again when the key file was replaced (``platforms audit rotate-key``), so
        a running signer takes up the new key without a restart."""
        with self._signer_lock:
            keys = self.settings.checkpoint_keys
            now = _file_identity(keys.private)
            if self._signer is None or (now is not None and now != self._signer_file):
                self._signer = keys.load_signer(create=True)
                self._signer_file = _file_identity(keys.private)
            return self._signer

    def start_watch(self, signs: bool) -> None:
        """Check the log now and then periodically; sign checkpoints on a schedule if ``signs``
        (unless PLATFORMS_CHECKPOINT_SIGNER says otherwise). The first check runs before this
        returns where the process signs, so a log from before the seal is sealed before any
        command of this process writes."""
        from audit.watch import IntegrityWatch, WatchConfig

        if self.watch is not None:
            return
        s = self.settings
        sign = s.checkpoint_signer if s.checkpoint_signer is not None else signs
        self.watch = IntegrityWatch(self.app, WatchConfig(
            sign=sign, every_seconds=s.checkpoint_seconds, every_events=s.checkpoint_events,
            check_seconds=s.integrity_check_seconds), self.checkpoint_signer, keys=s.checkpoint_keys)
        if sign:
            self.watch.tick()
        self.watch.start()

    def start_deadline_watch(self) -> None:
        """Record missed deadlines now (in its thread) and then every
        ``PLATFORMS_DEADLINE_CHECK_SECONDS``: the process that follows the log does, after the
        read models it reads have caught up (``PLATFORMS_DEADLINE_WATCH`` says otherwise)."""
        from projections.deadline_watch import DeadlineWatch

        if self.deadlines is not None:
            return
        self.deadlines = DeadlineWatch(self.app, self.engine, every_seconds=self.settings.deadline_check_seconds,
                                       on_recorded=self.notify)
        self.deadlines.start()

    def start(self) -> None:
        """Bring the read models up to date and, where this process runs them, keep them so; watch
        the log's integrity (signing checkpoints where this process writes and follows the log)."""
        self.start_watch(signs=self.settings.runs_projections)
        if self.settings.runs_projections:
            self.runner.catch_up()
            # Queued commands tell the runner that more events are on their way (SQLite's group
            # commit; PostgreSQL runs commands concurrently and reports none).
            self.runner.pressure = self.app.commands_waiting
            self.runner.start_background()
            self._background = True
            self.reads.follow(self.runner)  # cached reads keyed on the runner's published position
        watches = self.settings.deadline_watch
        if watches if watches is not None else self.settings.runs_projections:
            self.start_deadline_watch()

    def notify(self) -> None:
        """Tell the in-process runner that new events were written (no-op when it runs elsewhere)."""
        if self._background:
            self.runner.notify()

    def stop_background(self) -> None:
        """Stop following and watching the log in this process (cached reads go back to the
        positions table)."""
        if self.watch is not None:
            self.watch.stop()
            self.watch = None
        if self.deadlines is not None:
            self.deadlines.stop()
            self.deadlines = None
        if self._background:
            self.runner.stop()
            self._background = False
            self.reads.follow(None)

    def close(self) -> None:
        self.stop_background()
        self.app.close()
        self.engine.dispose()
        self.users.engine.dispose()


def build_container(settings: Settings, app: RegistryApp | None = None) -> Container:
    """Wire everything for ``settings`` around ``app``, or a new registry that creates its store
    if need be (the read-only commands pass one opened on an existing store,
    :func:`aggregates.existing_store.open_existing`), once the schema beside the log is current
    (:func:`prepare_schema`). In development the token signing key is made here on first use
    (:meth:`Settings.with_secret`)."""
    from projections.db import make_engine
    from projections.runner import ReadModelRunner

    settings = settings.with_secret()
    prepare_schema(settings, app.store if app is not None else settings.store)
    if app is None:
        app = build_registry(settings)
    app.committer.observer = CommandMetrics()  # counted for GET /metrics (api.metrics)
    engine = make_engine(app.store, **pool_options(settings))
    users = UserRepository(users_engine(app.store, **pool_options(settings)))
    users.move_from(engine)
    runner = ReadModelRunner(app, engine)
    throttle = LoginThrottle(users.engine, ThrottleLimits(
        settings.login_account_failures, settings.login_address_failures, settings.login_window))
    return Container(settings=settings, app=app, engine=engine, runner=runner, users=users, throttle=throttle)


def _file_identity(path: Path) -> tuple[int, int] | None:
    """The file's inode and modification time (a replaced file changes them), or None when missing."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns

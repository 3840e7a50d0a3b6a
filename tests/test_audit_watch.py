"""The integrity watch: checkpoints signed on a schedule by the process that writes, the log
checked against them at start-up and periodically, a broken log reported by /readyz and never
signed over, and a log from before the seal sealed once at start-up.

The schedule is tested with a clock the test moves (no sleeping); the processes are tested as
they run: the serving app (SQLite) and `platforms projections run` (PostgreSQL).
"""

from __future__ import annotations

import logging
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from aggregates.application import RegistryApp
from aggregates.programme import Driver
from aggregates.store import StoreConfig
from audit.checkpoint_store import latest_checkpoint, load_checkpoints
from audit.rows import iter_rows
from audit.watch import IntegrityWatch, WatchConfig
from support import checkpoint_keys, migrated, tamper_event, wait_until

ROOT = Path(__file__).resolve().parents[1]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _watch(app: RegistryApp, clock: Clock, sign: bool = True, **config: Any) -> IntegrityWatch:
    """A watch on the test's clock."""
    return IntegrityWatch(app, WatchConfig(sign=sign, **config), lambda: checkpoint_keys().load_signer(), clock,
                          keys=checkpoint_keys())


def _started(app: RegistryApp, **config: Any) -> tuple[Clock, Driver, IntegrityWatch]:
    """A platform applied for, and a watch that has made its first tick (at start-up)."""
    clock = Clock()
    a = Driver(app, subfield="智能芯片")
    a.to("applied")
    watch = _watch(app, clock, **config)
    watch.tick()
    return clock, a, watch


def test_grown_log_is_signed_at_start_up_then_on_schedule(registry: RegistryApp, checkpoint_key: Path) -> None:
    clock, a, watch = _started(registry, every_seconds=60, every_events=1000)
    first = latest_checkpoint(registry)
    assert first is not None and first.size == len(list(iter_rows(registry)))  # at start-up, at once
    assert watch.status()["status"] == "intact" and watch.status()["signing"] is True

    a.to("accepted")  # not yet 1,000 events
    watch.tick()  # the watch polls every second: it sees them now
    clock.now += 59
    watch.tick()
    assert latest_checkpoint(registry) == first
    clock.now += 1
    watch.tick()  # 60 s after the watch first saw them uncovered
    second = latest_checkpoint(registry)
    assert second.size == len(list(iter_rows(registry))) > first.size

    clock.now += 3600
    watch.tick()  # nothing new: nothing signed
    assert len(load_checkpoints(registry)) == 2


def test_many_new_events_are_signed_without_waiting(registry: RegistryApp, checkpoint_key: Path) -> None:
    clock, a, watch = _started(registry, every_seconds=60, every_events=2)
    size = latest_checkpoint(registry).size
    a.to("reviewed")
    assert len(list(iter_rows(registry))) - size >= 2
    watch.tick()  # same instant: the event threshold alone
    assert latest_checkpoint(registry).size == len(list(iter_rows(registry)))


def test_empty_log_is_not_signed(registry: RegistryApp, checkpoint_key: Path) -> None:
    watch = _watch(registry, Clock())
    watch.tick()
    assert latest_checkpoint(registry) is None and watch.status()["status"] == "intact"


def test_verifying_an_empty_store_is_not_ok(registry: RegistryApp) -> None:
    """A verifier pointed at the wrong (empty) store must not say OK; the watch of a fresh
    deployment, whose log is empty, reports it intact."""
    from audit.verify import verify_log

    report = verify_log(registry)
    assert not report.ok and report.first_failure.code == "empty_log"
    assert verify_log(registry, allow_empty=True).ok


def test_broken_log_is_an_alarm_and_never_signed_over(registry: RegistryApp, checkpoint_key: Path,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    a = Driver(registry, subfield="智能芯片")
    a.to("applied")
    watch = _watch(registry, clock, every_seconds=60, check_seconds=600)
    watch.tick()
    signed = len(load_checkpoints(registry))
    victim = list(iter_rows(registry))[0].position
    tamper_event(registry, victim)
    a.to("accepted")
    clock.now += 600  # the periodic check is due
    with caplog.at_level(logging.ERROR, logger="audit.watch"):
        watch.tick()
    status = watch.status()
    assert status["status"] == "broken" and status["signing"] is False
    assert status["first_failure"]["position"] == victim and status["first_failure"]["code"] == "event_altered"
    assert any(r.levelno == logging.ERROR and "AUDIT ALARM" in r.getMessage() for r in caplog.records)
    clock.now += 3600
    watch.tick()
    assert len(load_checkpoints(registry)) == signed  # no checkpoint over the tampered log


def test_a_long_log_is_verified_in_a_worker_process(registry: RegistryApp, checkpoint_key: Path) -> None:
    """What a long log takes (here from the first event): the same findings, and the worker is
    kept between checks and ended with the watch."""
    clock = Clock()
    Driver(registry, subfield="智能芯片").to("applied")
    watch = _watch(registry, clock, isolate_from=0, check_seconds=10)
    watch.tick()
    assert watch.status()["status"] == "intact" and latest_checkpoint(registry) is not None
    worker = watch._pool
    assert worker is not None
    tamper_event(registry, 1)
    clock.now += 10
    watch.tick()
    assert watch.status()["status"] == "broken" and watch.status()["first_failure"]["code"] == "event_altered"
    assert watch._pool is worker
    watch.stop()
    assert watch._pool is None


def test_a_watch_verifying_in_a_serving_process_holds_a_small_part_of_the_log_at_once(
        tmp_path: Path, checkpoint_key: Path) -> None:
    """A short log is verified in the serving process itself, whose allocator keeps the peak of
    what the check held: read a few hundred rows at a time, that peak is a small part of what
    reading the log in the default batches holds (the soak saw a worker step up at each check)."""
    import tracemalloc

    from aggregates.programme import act
    from aggregates.values import ChangeKind, Role
    from audit.verify import verify_log

    registry = RegistryApp(StoreConfig(migrated(f"sqlite:///{tmp_path / 'events.sqlite3'}")))
    try:
        drv = Driver(registry, subfield="智能芯片").to("under_construction")
        for i in range(2500):
            registry.report_change(drv.pid, act(Role.APPLICANT, "2023-01-06"), kind=ChangeKind.PRINCIPAL,
                                   description="变更" * 100 + str(i), new_value=f"负责人{i}")
        assert int(registry.recorder.max_notification_id()) > 2500
        watch = _watch(registry, Clock(), sign=False)

        def peak(check: Any) -> int:
            tracemalloc.start()
            try:
                check()
                return tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()

        in_batches = peak(lambda: verify_log(registry, allow_empty=True))
        watched = peak(watch.tick)
        assert watch.status()["status"] == "intact"
        assert watched < in_batches / 2, (watched, in_batches)
    finally:
        registry.close()


def test_a_store_that_does_not_answer_is_reported_and_asked_again_later(registry: RegistryApp,
                                                                        checkpoint_key: Path) -> None:
    clock = Clock()
    Driver(registry, subfield="智能芯片").to("applied")
    watch = _watch(registry, clock)
    calls = []

    def down(app: Any, allow_empty: bool = False) -> Any:
        calls.append(clock.now)
        raise OSError("database unreachable")

    watch._verify = down  # type: ignore[method-assign]
    watch.tick()
    assert watch.status()["error"] == "OSError: database unreachable" and watch.status()["status"] == "unchecked"
    clock.now += 1
    watch.tick()  # backing off: not asked again yet
    assert len(calls) == 1
    clock.now += 1
    watch.tick()
    assert len(calls) == 2
    del watch._verify  # the store answers again
    clock.now += 4
    watch.tick()
    assert watch.status()["error"] is None and watch.status()["status"] == "intact"


def test_a_watch_that_does_not_sign_still_checks(registry: RegistryApp, checkpoint_key: Path) -> None:
    Driver(registry, subfield="智能芯片").to("applied")
    watch = _watch(registry, Clock(), sign=False)
    watch.tick()
    assert watch.status()["status"] == "intact" and latest_checkpoint(registry) is None
    tamper_event(registry, 1)
    watch.tick()  # not due yet: the last result stands
    assert watch.status()["status"] == "intact"


def _unseal(app: RegistryApp) -> None:
    """The store as an earlier version of the registry left it: events, no seal rows."""
    if app.store.is_sqlite:
        conn = sqlite3.connect(app.store.sqlite_path)
        with conn:
            conn.execute("DELETE FROM audit_log_seal")
        conn.close()
    else:
        with app.recorder.datastore.transaction(commit=True) as cur:
            cur.execute(f'DELETE FROM "{app.recorder.datastore.schema}".audit_log_seal')


def test_a_log_from_before_the_seal_is_sealed_once_at_start_up(registry: RegistryApp, checkpoint_key: Path) -> None:
    Driver(registry, subfield="智能芯片").to("funded")
    _unseal(registry)
    from audit.verify import verify_log

    assert {f.code for f in verify_log(registry).failures} == {"event_unsealed"}
    watch = _watch(registry, Clock())
    watch.tick()
    assert watch.status()["status"] == "intact"
    assert verify_log(registry, public_key_pem=checkpoint_keys().pinned_public_key()).ok
    assert latest_checkpoint(registry).size == len(list(iter_rows(registry)))


def test_a_partly_sealed_log_is_reported_not_sealed_over(registry: RegistryApp, checkpoint_key: Path) -> None:
    """Unsealed events beside sealed ones were written behind the application's back."""
    Driver(registry, subfield="智能芯片").to("applied")
    _unseal(registry)
    Driver(registry, subfield="智能传感器").to("applied")  # sealed by the current code
    watch = _watch(registry, Clock())
    watch.tick()
    assert watch.status()["status"] == "broken"
    assert watch.status()["first_failure"]["code"] == "event_unsealed"
    assert latest_checkpoint(registry) is None


# ------------------------------------------------------------------ through the processes
def _serving(tmp_path: Path, url: str, **overrides: Any) -> Any:
    from api.bootstrap import build_container
    from api.settings import Settings

    settings = Settings.from_env(database_url=url, var_dir=tmp_path / "var", secret_key="s" * 40,
                                 **overrides)
    return build_container(settings)


def test_serving_app_signs_by_itself_and_reports_a_broken_log(tmp_path: Path, checkpoint_key: Path) -> None:
    """`platforms serve` on SQLite: the footer and /audit/checkpoint have a checkpoint without
    anyone asking; after tampering, /readyz is not ready and says where."""
    from api.app import create_app

    url = f"sqlite:///{tmp_path / 'events.sqlite3'}"
    seed = RegistryApp(StoreConfig(url))
    Driver(seed, subfield="智能芯片").to("applied")
    seed.close()
    c = _serving(tmp_path, url, checkpoint_seconds=0.5, integrity_check_seconds=1.0)
    try:
        with TestClient(create_app(c)) as client:
            cp = client.get("/api/v1/audit/checkpoint")
            assert cp.status_code == 200 and cp.json()["size"] == len(list(iter_rows(c.app)))  # at start-up
            ready = client.get("/api/v1/readyz").json()
            assert ready["audit"]["status"] == "intact" and ready["audit"]["signing"] is True
            Driver(c.app, subfield="智能传感器").to("applied")
            total = len(list(iter_rows(c.app)))
            wait_until(lambda: client.get("/api/v1/audit/checkpoint").json()["size"] == total)
            tamper_event(c.app, 2)
            r = wait_until(lambda: (lambda r: r if r.status_code == 503 else None)(client.get("/api/v1/readyz")))
            body = r.json()
            assert body["status"] == "broken" and body["audit"]["first_failure"]["position"] == 2
    finally:
        c.close()


@pytest.mark.postgres
def test_projection_runner_process_signs_on_postgres(postgres_url: str, tmp_path: Path, checkpoint_key: Path) -> None:
    from support import drop_schema, fresh_schema

    url, schema = fresh_schema(postgres_url)
    try:
        app = RegistryApp(StoreConfig(migrated(url)))  # migrated before the processes start, as deployed
        Driver(app, subfield="智能芯片").to("applied")
        env = {**os.environ, "PLATFORMS_DATABASE_URL": url, "PLATFORMS_VAR_DIR": str(tmp_path / "var"),
               "PLATFORMS_CHECKPOINT_SECONDS": "0.5", "PYTHONPATH": str(ROOT / "src")}
        proc = subprocess.Popen([sys.executable, "-c", "from api.cli import app; app()", "projections", "run"],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            wait_until(lambda: (latest_checkpoint(app) or None) and latest_checkpoint(app).size
                   == len(list(iter_rows(app))))
            Driver(app, subfield="智能传感器").to("applied")  # an API worker's writes
            total = len(list(iter_rows(app)))
            wait_until(lambda: latest_checkpoint(app).size == total)
        finally:
            proc.send_signal(signal.SIGTERM)
            out, _ = proc.communicate(timeout=30)
        assert proc.returncode == 0, out.decode(errors="replace")
        app.close()
    finally:
        drop_schema(postgres_url, schema)

"""Exactly once (恰好一次): a crash injected mid-batch, then a restart, gives the same read
models as a fresh rebuild; rebuilds swap whole models in; dropped tables are refilled."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from freezegun import freeze_time

from aggregates.application import RegistryApp
from aggregates.programme import Programme, host_unit
from aggregates.store import StoreConfig
from cohorts import cohort
from projections.db import make_engine
from projections.projector import Projector
from projections.rebuild import rebuild
from projections.runner import ReadModelRunner
from support import dump_tables

NOW = "2026-06-01T02:00:00Z"


class Crash(BaseException):
    """The process dying mid-batch (like SystemExit), not an event the runner cannot apply,
    which stops its models instead (tests/test_projections_failures.py)."""


@pytest.fixture
def store(store_url):
    with freeze_time(NOW):
        app = RegistryApp(StoreConfig(store_url))
        cohort(Programme(app), 0)
    engine = make_engine(app.store)
    yield app, engine
    engine.dispose()
    app.close()


def test_crash_mid_batch_then_restart_equals_rebuild(store, monkeypatch) -> None:
    app, engine = store
    head = app.recorder.max_notification_id()
    runner = ReadModelRunner(app, engine, batch_size=40)
    runner.catch_up()  # a first pass, then more events and a crash in the middle of a batch
    with freeze_time(NOW):
        cohort(Programme(app), 1)
    crash_at = head + 57
    original = Projector.process_event

    def crashing(self, event, position, models=None):
        if position == crash_at:
            raise Crash(f"injected at {position}")
        return original(self, event, position, models)

    monkeypatch.setattr(Projector, "process_event", crashing)
    with pytest.raises(Crash):
        runner.catch_up()
    stored = min(runner.positions().values())
    assert head <= stored < crash_at  # the batches before the crash committed, that one did not
    # The restarted process: a new runner (empty caches), no crash this time.
    monkeypatch.setattr(Projector, "process_event", original)
    restarted = ReadModelRunner(app, engine, batch_size=40)
    assert restarted.catch_up() == app.recorder.max_notification_id()
    followed = dump_tables(engine)
    rebuild(app, engine)
    assert dump_tables(engine) == followed


def test_crash_while_writing_rolls_back_rows_and_position(store, monkeypatch) -> None:
    """A failure after some rows were written (during the position update) leaves nothing."""
    app, engine = store
    runner = ReadModelRunner(app, engine, batch_size=25)
    runner.catch_up()
    before = dump_tables(engine)
    with freeze_time(NOW):
        cohort(Programme(app), 1)
    import projections.runner as runner_module

    def failing(conn, positions):
        raise Crash("disk full")

    monkeypatch.setattr(runner_module, "write_positions", failing)
    with pytest.raises(Crash):
        runner.catch_up()
    assert dump_tables(engine) == before
    monkeypatch.undo()
    runner.catch_up()
    followed = dump_tables(engine)
    rebuild(app, engine)
    assert dump_tables(engine) == followed


def test_rebuild_one_model_and_progress(store) -> None:
    app, engine = store
    ReadModelRunner(app, engine).catch_up()
    before = dump_tables(engine)
    calls: list[tuple[int, int]] = []
    positions = rebuild(app, engine, ["ledger"], progress=lambda done, total: calls.append((done, total)))
    assert positions == {"ledger": app.recorder.max_notification_id()}
    assert calls and calls[-1][0] == calls[-1][1] == app.recorder.max_notification_id()
    assert dump_tables(engine) == before
    with pytest.raises(ValueError):
        rebuild(app, engine, ["nonsense"])
    # No shadow table is left behind.
    names = set(sa.inspect(engine).get_table_names())
    assert not [n for n in names if n.endswith("__new")]


def test_dropped_tables_are_refilled_from_the_log_by_a_rebuild(store) -> None:
    """Nothing lost with a read model's table: drop it, and `projections rebuild` makes it again
    from the log (the runner creates no table: the migrations do)."""
    app, engine = store
    runner = ReadModelRunner(app, engine)
    runner.catch_up()
    before = dump_tables(engine)
    with engine.begin() as conn:
        conn.execute(sa.text('DROP TABLE "rm_publicity_entries"'))
    rebuild(app, engine, ["publicity"], workers=1)
    ReadModelRunner(app, engine).catch_up()
    assert dump_tables(engine) == before


def test_a_read_model_set_back_to_position_0_by_a_migration_is_refilled_by_the_runner(store) -> None:
    """What a revision changing a read model's table does (aggregates/migrations): the table made
    anew, empty, its position 0; the runner refills it from the log."""
    app, engine = store
    ReadModelRunner(app, engine).catch_up()
    before = dump_tables(engine)
    with engine.begin() as conn:
        conn.execute(sa.text('DELETE FROM "rm_ledger_entries"'))
        conn.execute(sa.text("UPDATE projection_positions SET position = 0 WHERE name = 'ledger'"))
    ReadModelRunner(app, engine).catch_up()
    assert dump_tables(engine) == before


def test_background_runner_reads_own_writes(store) -> None:
    app, engine = store
    runner = ReadModelRunner(app, engine)
    runner.start_background(poll_interval=0.05)
    try:
        with freeze_time(NOW):
            pid = Programme(app).apply("智能芯片", name="新平台", host_unit=host_unit("新单位"))
        position = app.recorder.max_notification_id()
        runner.notify()
        assert runner.wait_for(position, timeout=5.0)
        from projections import queries as Q

        with engine.connect() as conn:
            assert Q.get_platform(conn, pid)["status"] == "applied"
        assert all(s["lag"] == 0 for s in runner.status())
        assert not runner.wait_for(position + 1000, timeout=0.2)
    finally:
        runner.stop()


def test_a_rebuild_shared_by_processes_equals_the_followed_models(store, monkeypatch) -> None:
    """Several processes replay their shares of the aggregates into the shadow tables; events
    recorded during the replay (here: the last 30, past the end the processes were given) are
    applied in the swap, the other processes' aggregates loaded from the store."""
    app, engine = store
    with freeze_time(NOW):
        cohort(Programme(app), 1)
    ReadModelRunner(app, engine).catch_up()
    followed = dump_tables(engine)
    head = app.recorder.max_notification_id()
    import projections.rebuild as rebuild_module

    monkeypatch.setattr(rebuild_module, "max_position", lambda _app: head - 30)
    assert rebuild(app, engine, workers=3) == {m: head for m in ("platforms", "publicity", "ledger", "subfields",
                                                                  "deadlines")}
    assert dump_tables(engine) == followed
    monkeypatch.undo()
    assert rebuild(app, engine, workers=2)["ledger"] == head and dump_tables(engine) == followed


def test_a_failed_rebuild_process_leaves_the_live_models_untouched(store, monkeypatch) -> None:
    app, engine = store
    ReadModelRunner(app, engine).catch_up()
    before = dump_tables(engine)
    import projections.rebuild as rebuild_module

    original = rebuild_module._replay

    def failing_helper(app_, engine_, projector, end, part, parts, *rest):
        if part == 1:
            raise Crash("helper died")
        return original(app_, engine_, projector, end, part, parts, *rest)

    monkeypatch.setattr(rebuild_module, "_replay", failing_helper)
    with pytest.raises(RuntimeError, match="rebuild process failed"):
        rebuild(app, engine, workers=2)
    assert dump_tables(engine) == before


def test_a_rebuild_collects_garbage_at_its_flushes_and_gives_the_collector_back(store, monkeypatch) -> None:
    """The replay runs with the automatic garbage collector off and collects at each flush
    (projections/rebuild.py): many flushes give the same models, and the collector is on again
    afterwards, also when the replay fails."""
    import gc

    app, engine = store
    with freeze_time(NOW):
        cohort(Programme(app), 1)
    ReadModelRunner(app, engine).catch_up()
    followed = dump_tables(engine)
    collections: list[int] = []
    monkeypatch.setattr(gc, "collect", lambda generation=2: collections.append(generation) or 0)
    rebuild(app, engine, workers=1, read_chunk=20, flush_every=25)  # a flush every 40 events
    assert dump_tables(engine) == followed and gc.isenabled()
    assert len(collections) >= app.recorder.max_notification_id() // 40 - 1 and set(collections) == {1}

    import projections.rebuild as rebuild_module

    def failing(*args: object, **kwargs: object) -> None:
        assert not gc.isenabled()  # off while replaying
        raise Crash("replay failed")

    monkeypatch.setattr(rebuild_module.Projector, "process_notification", failing)
    with pytest.raises(Crash):
        rebuild(app, engine, workers=1)
    assert gc.isenabled() and dump_tables(engine) == followed

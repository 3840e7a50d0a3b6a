"""Concurrent writers on PostgreSQL with the runner following: nothing missed, nothing doubled.

The eventsourcing recorder locks the events table on insert, so notification ids are assigned
in commit order and a follower reading ids in order never passes a gap that a slower
transaction fills later (see :mod:`projections.runner`)."""

from __future__ import annotations

import threading

import pytest
from freezegun import freeze_time

from aggregates.application import RegistryApp
from aggregates.programme import Programme, host_unit
from aggregates.store import StoreConfig
from projections import queries as Q
from projections.db import make_engine
from projections.rebuild import rebuild
from projections.runner import ReadModelRunner
from support import dump_tables

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_store(postgres_url):
    from support import drop_schema, fresh_schema, migrated

    url, schema = fresh_schema(postgres_url)
    yield migrated(url)
    drop_schema(postgres_url, schema)


def test_concurrent_writers_with_followers(pg_store) -> None:
    writers = 4
    apps = [RegistryApp(StoreConfig(pg_store)) for _ in range(writers)]
    follower_app = RegistryApp(StoreConfig(pg_store))
    engine = make_engine(follower_app.store)
    # Two followers, as two API processes would run them: they serialize on the position rows.
    runners = [ReadModelRunner(follower_app, engine, batch_size=7),
               ReadModelRunner(follower_app, engine, batch_size=13)]
    seen: list[int] = []
    lock = threading.Lock()
    for r in runners:
        r.on_batch = lambda pos: (lock.acquire(), seen.append(pos), lock.release())
        r.start_background(poll_interval=0.01)
    errors: list[BaseException] = []

    def write(i: int) -> None:
        try:
            prog = Programme(apps[i])
            for k in range(6):
                prog.to("inspected", subfield="智能芯片", name=f"并发平台-{i}-{k}",
                        host_unit=host_unit(f"单位-{i}-{k}"))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
    # One freeze for all writers: freezegun patches the process, and starting or stopping it
    # from several threads at once is not safe.
    try:
        with freeze_time("2026-06-01T02:00:00Z"):
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        assert not errors
        head = follower_app.recorder.max_notification_id()
        assert runners[0].wait_for(head, timeout=20)
    finally:
        for r in runners:
            r.stop()
    followed = dump_tables(engine)
    with engine.connect() as conn:
        items = Q.list_platforms(conn, limit=500)["items"]
    assert len(items) == writers * 6
    assert {i["status"] for i in items} == {"inspected"}
    # 9 events per platform (applied, accepted, 5 scored, review completed, inspected).
    assert all(i["version"] == 9 for i in items)
    rebuild(follower_app, engine)
    assert dump_tables(engine) == followed
    engine.dispose()
    for a in [*apps, follower_app]:
        a.close()

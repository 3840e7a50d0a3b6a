"""Snapshots on PostgreSQL have a pool of their own, of at most two connections
(``aggregates/pg_pool.py``). libpq keeps a connection's receive buffer at the size of the largest
row it has read; a platform's snapshot is the largest row there is, and when snapshots were read
over the events' twenty connections, the soak (``bench/soak.py``) saw each API worker's memory
grow by some 10 MB that nothing retained.

What a user would notice if this broke: a worker that opens a session per concurrent snapshot
read (more sessions than the operator sized the server for), or a snapshot that can no longer be
read after its sessions were killed.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from aggregates.application import RegistryApp
from aggregates.programme import Driver, act
from aggregates.store import StoreConfig
from aggregates.values import ChangeKind, Role
from support import drop_schema, fresh_schema, terminate_backends

pytestmark = pytest.mark.postgres


def _long_history(app: RegistryApp, subfield: str) -> Any:
    """A platform with more than 50 events, so that the store holds a snapshot of it."""
    drv = Driver(app, subfield=subfield).to("under_construction")
    for i in range(30):
        app.report_change(drv.pid, act(Role.APPLICANT, "2023-01-06"), kind=ChangeKind.PRINCIPAL,
                          description=f"第{i}次", new_value=f"负责人{i}")
        app.decide_change(drv.pid, str(i + 1), act(Role.BUREAU, "2023-01-06"), approved=True, reasons="同意")
    assert app.snapshots is not None and list(app.snapshots.get(drv.pid)), "a snapshot was taken"
    return drv.pid


def test_snapshots_are_read_over_at_most_two_sessions_of_their_own(
        postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    url, schema = fresh_schema(postgres_url)
    name = f"snap-{uuid.uuid4().hex[:10]}"
    monkeypatch.setenv("PGAPPNAME", name)
    writer = RegistryApp(StoreConfig(url))
    try:
        pids = [_long_history(writer, s) for s in ("智能芯片", "智能传感器", "智能算力")]
        expected = {pid: list(writer.snapshots.get(pid, desc=True, limit=1))[0].state["principal"] for pid in pids}
        assert all(principal.startswith("负责人") for principal in expected.values())
    finally:
        writer.close()

    app = RegistryApp(StoreConfig(url))
    try:
        factory = app.factory
        assert factory.snapshot_datastore is not factory.datastore
        pool = factory.snapshot_datastore.pool
        assert pool.max_size == 2

        def read(pid: Any) -> str:
            snapshot = list(app.snapshots.get(pid, desc=True, limit=1))[0]
            return snapshot.state["principal"]

        with ThreadPoolExecutor(8) as threads:
            read_back = list(threads.map(read, pids * 8))
        assert read_back == [expected[pid] for pid in pids * 8]
        assert pool.get_stats()["pool_size"] <= 2

        # Killed like the events' sessions, the snapshots' are replaced before the next load.
        assert terminate_backends(url, name) > 0
        assert {pid: read(pid) for pid in pids} == expected
    finally:
        app.close()
        assert factory.snapshot_datastore.pool.closed
        drop_schema(postgres_url, schema)

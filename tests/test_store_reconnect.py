"""The event store on PostgreSQL after its sessions are killed (a server restart, a failover, an
idle-session timeout, an operator's pg_terminate_backend): the next command is recorded, not
refused as "store unavailable". Found by the soak (bench/soak.py), where every command that
followed a kill answered 503: each retry took another dead connection from the pool.

Only this test's sessions are terminated: the app runs with an application_name of its own
(``PGAPPNAME``), and the kill filters on it, so other sessions on the server are untouched.
"""

from __future__ import annotations

import uuid

import pytest

from aggregates.application import RegistryApp
from aggregates.programme import Driver
from aggregates.store import StoreConfig
from support import terminate_backends


@pytest.mark.postgres
def test_commands_are_recorded_right_after_every_session_of_the_store_is_killed(
        postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from support import drop_schema, fresh_schema

    url, schema = fresh_schema(postgres_url)
    name = f"store-{uuid.uuid4().hex[:10]}"
    monkeypatch.setenv("PGAPPNAME", name)
    app = RegistryApp(StoreConfig(url))
    try:
        Driver(app, subfield="智能芯片").to("applied")
        for _ in range(3):
            assert terminate_backends(url, name) > 0
            driven = Driver(app, subfield="智能传感器").to("accepted")
            assert app.get_platform(driven.pid).status == "accepted"
    finally:
        app.close()
        drop_schema(postgres_url, schema)

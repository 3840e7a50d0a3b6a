"""Processes that start at the same moment on a fresh PostgreSQL schema (the API workers of
`platforms serve --workers N`, a projection runner started beside them) all start. Creating the
same tables, types and functions at once made PostgreSQL refuse all but one ("tuple concurrently
updated"): the soak saw an API worker die at start-up and be replaced; two runners started
together, one exited. Table creation (the event store's, and the migrations a development start
runs) now takes one advisory lock (``aggregates/ddl_lock.py``)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from support import drop_schema, fresh_schema

pytestmark = pytest.mark.postgres


@pytest.mark.parametrize("round_", range(3))
def test_containers_started_at_once_on_a_fresh_schema_all_start(postgres_url: str, tmp_path: Path,
                                                               round_: int) -> None:
    from api.bootstrap import build_container
    from api.settings import Settings

    url, schema = fresh_schema(postgres_url)
    start = threading.Barrier(2)
    failures: list[BaseException] = []

    def start_one(k: int) -> None:
        settings = Settings.from_env(database_url=url, var_dir=tmp_path / f"var{k}",
                                     secret_key="concurrent-start-secret-key-of-32-chars")
        start.wait()
        try:
            build_container(settings).close()
        except BaseException as exc:  # noqa: BLE001 - collected and reported below
            failures.append(exc)

    threads = [threading.Thread(target=start_one, args=(k,)) for k in range(2)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert failures == []
    finally:
        drop_schema(postgres_url, schema)

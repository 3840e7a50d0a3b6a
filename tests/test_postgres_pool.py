"""The connections a process keeps to PostgreSQL (``PLATFORMS_POSTGRES_POOL_SIZE``): each of its
pools (the events, the read models, the accounts) keeps that many and opens as many again in a
burst, so that an operator can fit every process of a deployment (API workers, the runner,
the commands) within the server's ``max_connections``."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa

from api.bootstrap import Container, build_container
from api.settings import Settings
from support import drop_schema, fresh_schema, migrated

pytestmark = pytest.mark.postgres


@pytest.fixture
def schema_url(postgres_url: str) -> Iterator[str]:
    url, schema = fresh_schema(postgres_url)
    try:
        yield migrated(url)
    finally:
        drop_schema(postgres_url, schema)


def _sessions(postgres_url: str, name: str) -> int:
    conninfo = postgres_url.replace("postgresql+psycopg://", "postgresql://").split("?", 1)[0]
    with psycopg.connect(conninfo, autocommit=True, application_name="pool-test-counter") as conn:
        row = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (name,)).fetchone()
        return int(row[0]) if row else 0


def _container(url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, **values: object) -> Container:
    monkeypatch.setenv("PGAPPNAME", name)  # libpq names every session this process opens from now on
    return build_container(Settings.from_env({}, database_url=url, var_dir=tmp_path / "var", **values))


def test_a_process_keeps_the_pool_size_it_is_given_and_no_more_in_a_burst(
        schema_url: str, postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = f"pool-test-{uuid.uuid4().hex[:8]}"
    c = _container(schema_url, tmp_path, monkeypatch, name, postgres_pool_size=2)
    try:
        assert _sessions(postgres_url, name) < 10, "at start, fewer than the default pool of the events alone"
        barrier = threading.Barrier(12)
        peak = [0]

        def busy(engine: sa.Engine) -> None:
            barrier.wait()
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT pg_sleep(0.3)"))
                peak[0] = max(peak[0], _sessions(postgres_url, name))

        threads = [threading.Thread(target=busy, args=(e,)) for e in [c.engine] * 6 + [c.users.engine] * 6]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        # The events' pool (2 + 2), the snapshots' (2), the read models' and the accounts' (2 + 2 each).
        assert 0 < peak[0] <= 14, f"{peak[0]} sessions under a burst of 12"
    finally:
        c.close()


def test_without_the_setting_the_events_pool_keeps_ten(
        schema_url: str, postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = f"pool-test-{uuid.uuid4().hex[:8]}"
    assert "PLATFORMS_POSTGRES_POOL_SIZE" not in os.environ
    c = _container(schema_url, tmp_path, monkeypatch, name)
    try:
        assert _sessions(postgres_url, name) >= 10
    finally:
        c.close()


def test_a_pool_size_that_is_not_a_whole_number_from_1_to_50_is_refused() -> None:
    from api.settings import SettingsError

    for value in ("0", "51", "ten"):
        with pytest.raises(SettingsError, match="PLATFORMS_POSTGRES_POOL_SIZE"):
            Settings.from_env({"PLATFORMS_POSTGRES_POOL_SIZE": value})

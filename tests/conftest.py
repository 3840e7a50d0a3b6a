"""Shared fixtures: stores (memory, SQLite file, PostgreSQL schema) and the registry app.

PostgreSQL tests skip with a reason when no server answers, except where
``PLATFORMS_REQUIRE_POSTGRES`` is set (CI), where they fail instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg  # imported before any test freezes time: its C types check datetime
import pytest

os.environ.setdefault("EVENTSOURCING_DISABLE_REDEFINITION_CHECK", "y")

PG_URL = os.environ.get("PLATFORMS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _pg_reachable() -> str | None:
    """None when PostgreSQL answers, else the reason it does not."""
    from aggregates.store import StoreConfig

    env = StoreConfig(PG_URL).eventsourcing_env()
    try:
        with psycopg.connect(
            host=env["POSTGRES_HOST"], port=int(env["POSTGRES_PORT"]), user=env["POSTGRES_USER"],
            dbname=env["POSTGRES_DBNAME"], password=env["POSTGRES_PASSWORD"] or None, connect_timeout=3,
        ) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        store = StoreConfig(PG_URL)
        return f"PostgreSQL at {store.masked} is unreachable ({exc.__class__.__name__}: {store.redact(str(exc))})"
    return None


@pytest.fixture(autouse=True)
def _var_dir_per_test(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every file a test's code keeps by default (PLATFORMS_VAR_DIR) goes under that test's own
    directory, never the checkout's ./var, where a checkpoint key left by one run would be
    pinned against the next."""
    monkeypatch.setenv("PLATFORMS_VAR_DIR", str(tmp_path / "var"))


@pytest.fixture(scope="session")
def postgres_url() -> str:
    reason = _pg_reachable()
    if reason:
        if os.environ.get("PLATFORMS_REQUIRE_POSTGRES"):
            pytest.fail(reason + "; PLATFORMS_REQUIRE_POSTGRES is set, so this is a failure")
        pytest.skip(reason + "; set PLATFORMS_TEST_POSTGRES_URL or start PostgreSQL to run these tests")
    return PG_URL


def fresh_schema(base_url: str) -> tuple[str, str]:
    """A new, empty PostgreSQL schema; returns (url with ?schema=, schema name)."""
    from aggregates.store import StoreConfig

    schema = f"t_{uuid.uuid4().hex[:12]}"
    env = StoreConfig(base_url).eventsourcing_env()
    with psycopg.connect(host=env["POSTGRES_HOST"], port=int(env["POSTGRES_PORT"]), user=env["POSTGRES_USER"],
                         dbname=env["POSTGRES_DBNAME"], password=env["POSTGRES_PASSWORD"] or None,
                         autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return f"{base_url}?schema={schema}", schema


def drop_schema(base_url: str, schema: str) -> None:
    from aggregates.store import StoreConfig

    env = StoreConfig(base_url).eventsourcing_env()
    with psycopg.connect(host=env["POSTGRES_HOST"], port=int(env["POSTGRES_PORT"]), user=env["POSTGRES_USER"],
                         dbname=env["POSTGRES_DBNAME"], password=env["POSTGRES_PASSWORD"] or None,
                         autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty store of each kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'events.sqlite3'}"
        return
    base = request.getfixturevalue("postgres_url")
    url, schema = fresh_schema(base)
    try:
        yield url
    finally:
        drop_schema(base, schema)


@pytest.fixture
def registry(store_url: str):
    from aggregates.application import RegistryApp
    from aggregates.store import StoreConfig

    app = RegistryApp(StoreConfig(store_url))
    yield app
    app.close()


@pytest.fixture
def memory_registry():
    from aggregates.application import RegistryApp
    from aggregates.store import StoreConfig

    app = RegistryApp(StoreConfig("memory:"))
    yield app
    app.close()


def wait_until(condition: Any, seconds: float = 30.0) -> Any:
    """Poll ``condition`` until it returns something true, and return that (bounded: background
    threads and processes work meanwhile); fails the test after ``seconds``."""
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"condition not reached in {seconds} s")


def terminate_backends(url: str, application_name: str) -> int:
    """Terminate every PostgreSQL session of ``application_name`` in ``url``'s database (one
    process's own, never another test's); returns how many were ended."""
    from aggregates.store import StoreConfig

    params = StoreConfig(url).postgres_params()
    with psycopg.connect(host=params["host"], port=params["port"], user=params["user"], dbname=params["dbname"],
                         password=params["password"] or None, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND application_name = %s", (application_name,)).fetchall()
    return sum(1 for (done,) in rows if done)

"""Helpers the tests (and the benchmarks) share that are not fixtures: PostgreSQL schemas of
their own, ending a process's database sessions, waiting for background work, a `platforms
serve` process, and the read models' rows for comparison. The fixtures are in ``conftest.py``."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg  # imported (by conftest.py, through here) before any test freezes time: its C types check datetime
import sqlalchemy as sa

from aggregates.store import StoreConfig
from audit.keys import CheckpointKeys
from projections.tables import LIVE, MODEL_TABLES, MODELS, POSITIONS, positions_table

PG_URL = os.environ.get("PLATFORMS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SRC = Path(__file__).resolve().parents[1] / "src"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(tmp_path: Path, *args: str, log: Path | None = None, **env: str) -> Iterator[tuple[str, subprocess.Popen]]:
    """``platforms serve`` (with ``args``) in development mode, on an empty SQLite store in
    ``tmp_path`` unless ``env`` names another; yields its base URL, once it answers, and the
    process. No ``PLATFORMS_*`` setting of the test run leaks into it. Its stderr (the logs)
    goes to the file ``log``, if given."""
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("PLATFORMS_", "FORWARDED_", "MALLOC_"))}
    environ |= {"PYTHONPATH": str(SRC), "PLATFORMS_MODE": "development", "PLATFORMS_VAR_DIR": str(tmp_path / "var")}
    stderr = open(log, "wb") if log is not None else subprocess.DEVNULL
    proc = subprocess.Popen([sys.executable, "-c", "from api.cli import app; app()", "serve", "--port", str(port),
                             *args], env=environ | env, stdout=subprocess.DEVNULL, stderr=stderr)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(f"{base}/api/v1/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, "platforms serve exited"
            threading.Event().wait(0.1)
        yield base, proc
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        if log is not None:
            stderr.close()  # type: ignore[union-attr]


def _connect(url: str) -> psycopg.Connection:
    params = StoreConfig(url).postgres_params()
    return psycopg.connect(host=params["host"], port=params["port"], user=params["user"], dbname=params["dbname"],
                           password=params["password"] or None, autocommit=True, connect_timeout=3)


def pg_unreachable() -> str | None:
    """None when PostgreSQL answers at PG_URL, else the reason it does not."""
    try:
        with _connect(PG_URL) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        store = StoreConfig(PG_URL)
        return f"PostgreSQL at {store.masked} is unreachable ({exc.__class__.__name__}: {store.redact(str(exc))})"
    return None


def migrated(url: str) -> str:
    """``url`` after ``platforms migrate``: the tables beside the event log created, as every
    process in development finds them (:func:`api.registry_wiring.prepare_schema`)."""
    from aggregates.migrations import migrate

    migrate(StoreConfig(url))
    return url


def fresh_schema(base_url: str) -> tuple[str, str]:
    """A new, empty PostgreSQL schema; returns (url with ?schema=, schema name)."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with _connect(base_url) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return f"{base_url}?schema={schema}", schema


def drop_schema(base_url: str, schema: str) -> None:
    with _connect(base_url) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def terminate_backends(url: str, application_name: str) -> int:
    """Terminate every PostgreSQL session of ``application_name`` in ``url``'s database (one
    process's own, never another test's); returns how many were ended."""
    with _connect(url) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND application_name = %s", (application_name,)).fetchall()
    return sum(1 for (done,) in rows if done)


def wait_until(condition: Any, seconds: float = 30.0) -> Any:
    """Poll ``condition`` until it returns something true, and return that (bounded: background
    threads and processes work meanwhile); fails the test after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"condition not reached in {seconds} s")


def dump_tables(engine: sa.Engine, models: tuple[str, ...] | list[str] = MODELS) -> dict[str, list[tuple]]:
    """Every row of the models' live tables and their positions, sorted (to compare a model
    kept up to date with a fresh rebuild)."""
    out: dict[str, list[tuple]] = {}
    with engine.connect() as conn:
        for model in models:
            for name in MODEL_TABLES[model]:
                out[name] = sorted(tuple(r) for r in conn.execute(sa.select(LIVE[name])))
        out[POSITIONS] = sorted(tuple(r) for r in conn.execute(
            sa.select(positions_table).where(positions_table.c.name.in_(list(models)))))
    return out


def tamper_event(app: Any, position: int) -> None:
    """Alter the stored bytes of the event at log ``position`` behind the application's back (a
    space appended to its state), as someone with write access to the database could."""
    if app.store.is_sqlite:
        conn = sqlite3.connect(app.store.sqlite_path)
        with conn:
            conn.execute(f"UPDATE {app.recorder.events_table_name} SET state = CAST(state || ' ' AS BLOB) "
                         "WHERE rowid = ?", (position,))
        conn.close()
    else:
        table = f'"{app.recorder.datastore.schema}".{app.recorder.events_table_name}'
        with app.recorder.datastore.transaction(commit=True) as cur:
            cur.execute(f"UPDATE {table} SET state = state || '\\x20'::bytea WHERE notification_id = %s", (position,))


def checkpoint_keys() -> CheckpointKeys:
    """The checkpoint keys the test's environment names (the ``checkpoint_key`` and ``keys``
    fixtures set ``PLATFORMS_CHECKPOINT_KEY``; else under the test's own ``PLATFORMS_VAR_DIR``),
    as the service's settings read them."""
    from api.settings import Settings

    return Settings.from_env().checkpoint_keys


class Served:
    """The app on a uvicorn server in a background thread."""

    def __init__(self, container: Any) -> None:
        import uvicorn

        from api.app import create_app

        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(create_app(container), host="127.0.0.1", port=self.port, log_level="warning",
                                lifespan="on", access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="uvicorn-page-test", daemon=True)

    def __enter__(self) -> Served:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

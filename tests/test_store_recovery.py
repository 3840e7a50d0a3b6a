"""Recovery: a SQLite store that could not be written is written again as
soon as it can be, without a restart, and ``/readyz`` says when the store refuses writes.

The store is made unwritable with the immutable attribute (``chattr +i``), which binds root too
(these tests run as root in CI, where file modes would not stop a write)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from aggregates.application import RegistryApp
from aggregates.programme import Programme
from aggregates.store import StoreConfig
from api_client import Api, application

SQLITE = pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)


def _chattr(flag: str, path: Path) -> None:
    subprocess.run(["chattr", flag, str(path)], check=True, capture_output=True, timeout=30)


@pytest.fixture
def immutable(tmp_path: Path) -> Iterator[list[Path]]:
    """Files made immutable during the test, released at its end whatever happens."""
    probe = tmp_path / "probe"
    probe.touch()
    try:
        _chattr("+i", probe)
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"chattr +i is not available here ({exc}): needs root on ext4, xfs or btrfs")
    _chattr("-i", probe)
    held: list[Path] = []
    yield held
    for path in held:
        _chattr("-i", path)


def _freeze(held: list[Path], path: Path) -> None:
    _chattr("+i", path)
    held.append(path)


def _thaw(held: list[Path], path: Path) -> None:
    _chattr("-i", path)
    held.remove(path)


@SQLITE
def test_a_store_opened_unwritable_is_written_once_it_is_writable(store_url: str, immutable: list[Path]) -> None:
    path = Path(StoreConfig(store_url).sqlite_path)
    first = RegistryApp(StoreConfig(store_url))
    Programme(first).apply("智能芯片", name="平台一")
    first.close()
    _freeze(immutable, path)  # as after a restore with the wrong attributes
    app = RegistryApp(StoreConfig(store_url))
    try:
        prog = Programme(app)
        for _ in range(2):
            with pytest.raises(Exception, match="readonly"):
                prog.apply("智能传感器", name="平台二")
        _thaw(immutable, path)
        pid = prog.apply("智能传感器", name="平台二")  # no restart
        assert app.get_platform(pid).name == "平台二"
    finally:
        app.close()


@SQLITE
def test_readyz_reports_a_store_that_refuses_writes(api: Api, store_url: str, immutable: list[Path]) -> None:
    ready = api.client.get("/api/v1/readyz")
    assert ready.status_code == 200 and ready.json()["store"] == "writable"
    path = Path(StoreConfig(store_url).sqlite_path)
    _freeze(immutable, path)
    refused = api.client.get("/api/v1/readyz")
    assert refused.status_code == 503
    assert refused.json()["status"] == "not_writable" and "cannot be written" in refused.json()["store"]
    _thaw(immutable, path)
    again = api.client.get("/api/v1/readyz")
    assert again.status_code == 200 and again.json()["status"] == "ready"
    assert api.post("/platforms", "applicant", application()).status_code == 201


@SQLITE
def test_read_models_opened_unwritable_are_written_once_they_are_writable(
        store_url: str, immutable: list[Path]) -> None:
    from aggregates.event_table import read_model_path
    from projections.db import make_engine
    from projections.runner import ReadModelRunner

    app = RegistryApp(StoreConfig(store_url))
    engine = make_engine(app.store)
    ReadModelRunner(app, engine).catch_up()
    engine.dispose()
    Programme(app).apply("智能芯片", name="平台一")
    path = Path(read_model_path(app.store.sqlite_path))
    _freeze(immutable, path)
    engine = make_engine(app.store)
    try:
        with pytest.raises(Exception, match="readonly"):
            ReadModelRunner(app, engine).catch_up()
        _thaw(immutable, path)
        ReadModelRunner(app, engine).catch_up()  # the same engine, no restart
        with engine.connect() as conn:
            from projections import queries as Q

            assert [p["name"] for p in Q.list_platforms(conn)["items"]] == ["平台一"]
    finally:
        engine.dispose()
        app.close()


@pytest.mark.parametrize("store_url", ["postgres"], indirect=True)
def test_readyz_reports_a_postgresql_store_in_read_only_transactions(api: Api, store_url: str) -> None:
    import sqlalchemy as sa

    ready = api.client.get("/api/v1/readyz")
    assert ready.status_code == 200 and ready.json()["store"] == "writable"
    store = StoreConfig(store_url)
    container = api.container
    writable_engine = container.engine
    container.engine = sa.create_engine(
        store.sqlalchemy_url.replace("postgresql://", "postgresql+psycopg://", 1),
        connect_args={"options": f"-csearch_path={store.schema} -cdefault_transaction_read_only=on"})
    try:
        refused = api.client.get("/api/v1/readyz")
        assert refused.status_code == 503 and refused.json()["status"] == "not_writable"
        assert "read-only transaction" in refused.json()["store"]
    finally:
        container.engine.dispose()
        container.engine = writable_engine

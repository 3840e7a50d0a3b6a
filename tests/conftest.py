"""Every fixture more than one test module uses: stores (memory, SQLite file, PostgreSQL schema)
and the registry app, the API client, the demo store, checkpoint and witness keys, a development
directory for the command line, and a log with checkpoints to export.

Helpers that are not fixtures live beside it: :mod:`support` (PostgreSQL schemas, waiting,
read-model rows), :mod:`api_client`, :mod:`demo_store`, :mod:`witness_support` and
:mod:`cohorts`; the platforms themselves are driven by :mod:`aggregates.programme`, the driver
the demo and the benchmarks use too.

PostgreSQL tests skip with a reason when no server answers, except where
``PLATFORMS_REQUIRE_POSTGRES`` is set (CI), where they fail instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher

os.environ.setdefault("EVENTSOURCING_DISABLE_REDEFINITION_CHECK", "y")

from api_client import Api, make_api
from demo_store import DemoStore, build_demo_template, copy_demo
from support import PG_URL, checkpoint_keys, drop_schema, fresh_schema, migrated, pg_unreachable
from witness_support import ORIGIN, Keys


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing() -> Iterator[None]:
    """Argon2 at its production cost takes ~0.3 s a hash here, and the tests create many accounts."""
    import api.users

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(api.users, "PASSWORD_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        yield


@pytest.fixture(autouse=True)
def _var_dir_per_test(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every file a test's code keeps by default (PLATFORMS_VAR_DIR) goes under that test's own
    directory, never the checkout's ./var, where a checkpoint key left by one run would be
    pinned against the next."""
    monkeypatch.setenv("PLATFORMS_VAR_DIR", str(tmp_path / "var"))


# ---------------------------------------------------------------- stores and the registry
@pytest.fixture(scope="session")
def postgres_url() -> str:
    reason = pg_unreachable()
    if reason:
        if os.environ.get("PLATFORMS_REQUIRE_POSTGRES"):
            pytest.fail(reason + "; PLATFORMS_REQUIRE_POSTGRES is set, so this is a failure")
        pytest.skip(reason + "; set PLATFORMS_TEST_POSTGRES_URL or start PostgreSQL to run these tests")
    return PG_URL


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh store of each kind, migrated (its tables beside the event log created) and empty."""
    if request.param == "sqlite":
        yield migrated(f"sqlite:///{tmp_path / 'events.sqlite3'}")
        return
    base = request.getfixturevalue("postgres_url")
    url, schema = fresh_schema(base)
    try:
        yield migrated(url)
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


# ---------------------------------------------------------------- the API
@pytest.fixture
def api(store_url: str, tmp_path: Path) -> Iterator[Api]:
    """The API on a fresh store, with a user of every role (:data:`api_client.ROLES_USERS`)."""
    a, container = make_api(store_url, tmp_path)
    with a.client:
        yield a
    container.close()


@pytest.fixture
def export_site(store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    """The API over a store holding two platforms, a checkpoint after the first and one after
    the second, and one more platform's events no checkpoint covers yet."""
    from aggregates.programme import Driver
    from audit.checkpoints import sign_checkpoint

    monkeypatch.setenv("PLATFORMS_CHECKPOINT_KEY", str(tmp_path / "keys" / "cp.pem"))
    monkeypatch.delenv("PLATFORMS_CHECKPOINT_PUBKEY", raising=False)
    api, container = make_api(store_url, tmp_path)
    app = container.app
    Driver(app, subfield="智能芯片").to("funded")
    keys = container.settings.checkpoint_keys
    sign_checkpoint(app, keys.load_signer(), keys)
    Driver(app, subfield="智能传感器").to("approved")
    sign_checkpoint(app, keys.load_signer(), keys)
    Driver(app, subfield="智能算力").to("accepted")
    with api.client:
        yield api
    container.close()


# ---------------------------------------------------------------- the demo store
@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo loaded once per session (``platforms demo``'s programme, its live batch open today)."""
    return build_demo_template(tmp_path_factory.mktemp("demo-template"))


@pytest.fixture
def demo_store(demo_template: Path, tmp_path: Path) -> DemoStore:
    """A copy of the demo store of the test's own."""
    return copy_demo(demo_template, tmp_path / "store")


# ---------------------------------------------------------------- keys
@pytest.fixture
def checkpoint_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Checkpoint keys under the test's own directory, never ./var."""
    key = tmp_path / "keys" / "checkpoint.pem"
    monkeypatch.setenv("PLATFORMS_CHECKPOINT_KEY", str(key))
    monkeypatch.delenv("PLATFORMS_CHECKPOINT_PUBKEY", raising=False)
    return key


@pytest.fixture
def keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Keys:
    """The log's checkpoint key (made now, its public half pinned) and an empty witness list,
    under the test's own directory, with the log's origin set."""

    monkeypatch.setenv("PLATFORMS_CHECKPOINT_KEY", str(tmp_path / "keys" / "checkpoint.pem"))
    monkeypatch.delenv("PLATFORMS_CHECKPOINT_PUBKEY", raising=False)
    monkeypatch.setenv("PLATFORMS_LOG_ORIGIN", ORIGIN)
    witness_file = tmp_path / "witnesses.txt"
    witness_file.write_text("# the registry's witnesses\n", encoding="utf-8")
    monkeypatch.setenv("PLATFORMS_WITNESS_KEYS", str(witness_file))
    checkpoint_keys().load_signer()
    return Keys(tmp_path, witness_file)


# ---------------------------------------------------------------- the command line
@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A development store in the test's own directory, as ``platforms`` finds it from there."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PLATFORMS_DATABASE_URL", f"sqlite:///{tmp_path / 'var' / 'events.sqlite3'}")
    monkeypatch.setenv("PLATFORMS_MODE", "development")
    for name in ("PLATFORMS_SECRET_KEY", "PLATFORMS_POLICY_DIR", "PLATFORMS_CALENDAR_FILE"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path

"""Privacy: no client address in the permanent log, private files (0600)
for the stores, their WAL and exports, and no short secret key even in development."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app as cli
from api.commands_support import public_key_scope
from api.settings import Settings, SettingsError
from api_client import to_in_publicity
from support import migrated

OBJECTION = {"objector_name": "市民", "contact": "13800000000", "content": "对申报数据有疑问，请予核查"}


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_public_idempotency_key_keeps_the_client_address_out_of_the_log(api) -> None:
    pid, _ = to_in_publicity(api)
    first = api.post(f"/platforms/{pid}/objections", None, OBJECTION, **{"Idempotency-Key": "form-7"})
    again = api.post(f"/platforms/{pid}/objections", None, OBJECTION, **{"Idempotency-Key": "form-7"})
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()  # the same receipt, the same position: recorded once
    log = api.get("/audit/log", "auditor").text
    assert "testclient" not in log  # the test client's address, as the server sees it
    assert "form-7" not in log


def test_public_key_scope_separates_clients_and_cannot_be_read_back() -> None:
    secret = "s" * 40
    mine = public_key_scope(secret, "203.0.113.7", "k")
    assert mine == public_key_scope(secret, "203.0.113.7", "k")  # a retry finds its record
    assert mine != public_key_scope(secret, "203.0.113.8", "k")  # another visitor's key is theirs
    assert mine != public_key_scope("t" * 40, "203.0.113.7", "k")  # no secret, no guessing
    assert "203.0.113.7" not in mine


def test_stores_wal_and_exports_are_created_private(cli_env: Path) -> None:
    tmp_path = cli_env
    old = os.umask(0o022)  # the usual umask, under which files are world-readable by default
    try:
        runner = CliRunner()
        assert runner.invoke(cli, ["demo", "--if-empty"]).exit_code == 0
        r = runner.invoke(cli, ["ledger", "export", "--out", str(tmp_path / "ledger.csv")])
        assert r.exit_code == 0, r.output
        r = runner.invoke(cli, ["audit", "export", "--out", str(tmp_path / "log.jsonl")])
        assert r.exit_code == 0, r.output
    finally:
        os.umask(old)
    var = tmp_path / "var"
    databases = sorted(p.name for p in var.iterdir() if ".sqlite3" in p.name)
    assert {"events.sqlite3", "events.read.sqlite3"} <= set(databases)
    assert {name: _mode(var / name) for name in databases} == {name: 0o600 for name in databases}
    assert _mode(var / "secret.key") == 0o600
    assert _mode(tmp_path / "ledger.csv") == _mode(tmp_path / "log.jsonl") == 0o600


def test_an_existing_world_readable_store_is_tightened_and_its_wal_is_private(tmp_path: Path) -> None:
    from aggregates.application import RegistryApp
    from aggregates.store import StoreConfig
    from projections.db import make_engine
    from projections.runner import ReadModelRunner

    events = tmp_path / "events.sqlite3"
    events.touch(mode=0o644)
    os.chmod(events, 0o644)
    old = os.umask(0o022)
    try:
        app = RegistryApp(StoreConfig(migrated(f"sqlite:///{events}")))
        engine = make_engine(app.store)
        ReadModelRunner(app, engine).catch_up()
        with engine.connect():  # WAL and SHM exist while a connection is open
            files = {p.name: _mode(p) for p in tmp_path.iterdir()}
        engine.dispose()
        app.close()
    finally:
        os.umask(old)
    assert {"events.sqlite3", "events.read.sqlite3", "events.read.sqlite3-wal", "events.read.sqlite3-shm"} <= set(files)
    assert files == {name: 0o600 for name in files}


@pytest.mark.parametrize("mode", ["development", "production"])
def test_a_short_secret_key_is_refused_in_every_mode(mode: str, tmp_path: Path) -> None:
    env = {"PLATFORMS_MODE": mode, "PLATFORMS_SECRET_KEY": "x" * 31}
    with pytest.raises(SettingsError, match="at least 32 characters"):
        Settings.from_env(env=env, var_dir=tmp_path)
    assert Settings.from_env(env=env | {"PLATFORMS_SECRET_KEY": "x" * 32}, var_dir=tmp_path).secret_key == "x" * 32


def test_the_generated_development_key_is_long_enough(tmp_path: Path) -> None:
    settings = Settings.from_env(env={"PLATFORMS_MODE": "development"}, var_dir=tmp_path).with_secret()
    assert len(settings.secret_key) >= 32
    assert (tmp_path / "secret.key").stat().st_mode & 0o777 == 0o600
    assert Settings.from_env(env={}, var_dir=tmp_path).with_secret().secret_key == settings.secret_key

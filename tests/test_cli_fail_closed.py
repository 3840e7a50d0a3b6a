"""Fails closed: the commands that read the log never create a store.

Pointed at a missing SQLite file, an empty one, a mistyped path, a PostgreSQL schema without
tables or a port where nothing listens, each of them prints one line on stderr naming the store
(password masked) and exits 1 (2 for a URL that cannot name a store), with no traceback, and
leaves nothing behind. On a real store they work as before. ``PLATFORMS_VAR_DIR`` moves every
file the system keeps.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from aggregates.application import RegistryApp
from aggregates.existing_store import events_table
from aggregates.programme import Driver
from aggregates.store import StoreConfig
from api.cli import app
from support import drop_schema, fresh_schema

runner = CliRunner()
PASSWORD = "s3cr3t-Pa55"

# Every command that needs the log to exist: the ones that only read it, and `audit
# checkpoint`, which signs the log and so must not sign a new empty one.
READ_ONLY = [
    ["audit", "verify"],
    ["audit", "export"],
    ["audit", "proof", "inclusion", "--position", "1"],
    ["audit", "proof", "consistency", "--old-size", "1"],
    ["audit", "reconcile"],
    ["audit", "checkpoint"],
    ["ledger", "export"],
    ["projections", "rebuild"],
]
IDS = [" ".join(word for word in c if not word.startswith("-") and not word.isdigit()) for c in READ_ONLY]


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory that is not the deployment's, with no PLATFORMS_* setting at all."""
    for name in ("PLATFORMS_DATABASE_URL", "PLATFORMS_VAR_DIR", "PLATFORMS_SECRET_KEY", "PLATFORMS_POLICY_DIR",
                 "PLATFORMS_CALENDAR_FILE", "PLATFORMS_CHECKPOINT_KEY", "PLATFORMS_CHECKPOINT_PUBKEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PLATFORMS_MODE", "development")
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    return cwd


def invoke(args: list[str], input: str | None = None) -> Result:  # noqa: A002 - CliRunner's name
    return runner.invoke(app, args, input=input)


def failed_closed(result: Result, code: int = 1) -> str:
    """The one error line of a command that stopped cleanly with ``code``."""
    assert result.exit_code == code, result.output
    assert isinstance(result.exception, SystemExit), result.exception  # typer.Exit, not a crash
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output and PASSWORD not in result.output
    return lines[0]


def store_with_events(url: str) -> None:
    """A real store: one platform taken through the whole procedure, funded."""
    registry = RegistryApp(StoreConfig(url))
    try:
        Driver(registry).to("funded")
    finally:
        registry.close()


def tables_in_schema(base_url: str, schema: str) -> list[str] | None:
    """The tables of ``schema``, or None when the schema does not exist."""
    import psycopg

    params = StoreConfig(base_url).postgres_params()
    with psycopg.connect(**{**params, "password": params["password"] or None}, autocommit=True) as conn:
        if conn.execute("SELECT to_regnamespace(%s)", [schema]).fetchone()[0] is None:
            return None
        return [r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", [schema])]


# ---------------------------------------------------------------------------- SQLite
@pytest.mark.parametrize("command", READ_ONLY, ids=IDS)
def test_run_from_another_directory_is_an_error_and_creates_nothing(elsewhere: Path, command: list[str]) -> None:
    line = failed_closed(invoke(command))
    assert f"no event store at {elsewhere / 'var' / 'platforms.sqlite3'}" in line
    assert "PLATFORMS_DATABASE_URL" in line and "PLATFORMS_VAR_DIR" in line
    assert list(elsewhere.iterdir()) == []  # no var/, no store, no read models, no key


@pytest.mark.parametrize("command", READ_ONLY, ids=IDS)
def test_mistyped_sqlite_path_is_an_error_and_creates_nothing(elsewhere: Path, monkeypatch: pytest.MonkeyPatch,
                                                              command: list[str]) -> None:
    typo = elsewhere.parent / "deploy" / "var" / "platfroms.sqlite3"
    monkeypatch.setenv("PLATFORMS_DATABASE_URL", f"sqlite:///{typo}")
    line = failed_closed(invoke(command))
    assert f"no event store at {typo} (PLATFORMS_DATABASE_URL=sqlite:///{typo})" in line
    assert not (elsewhere.parent / "deploy").exists()
    assert list(elsewhere.iterdir()) == []


@pytest.mark.parametrize("command", READ_ONLY, ids=IDS)
def test_empty_sqlite_file_is_an_error_and_stays_empty(elsewhere: Path, monkeypatch: pytest.MonkeyPatch,
                                                       command: list[str]) -> None:
    empty = elsewhere / "empty.sqlite3"
    sqlite3.connect(empty).close()  # a database sqlite created, with no tables
    monkeypatch.setenv("PLATFORMS_DATABASE_URL", f"sqlite:///{empty}")
    line = failed_closed(invoke(command))
    assert f"no event store at {empty}: the file has no stored_events table" in line
    assert empty.stat().st_size == 0
    assert sorted(p.name for p in elsewhere.iterdir()) == ["empty.sqlite3"]


def test_file_that_is_not_a_database_is_an_error(elsewhere: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    notes = elsewhere / "notes.txt"
    notes.write_text("not a database\n", encoding="utf-8")
    monkeypatch.setenv("PLATFORMS_DATABASE_URL", f"sqlite:///{notes}")
    assert "file is not a database" in failed_closed(invoke(["audit", "verify"]))
    assert notes.read_text(encoding="utf-8") == "not a database\n"


def test_verify_on_a_store_without_events_is_an_error_not_ok(store_url: str, monkeypatch: pytest.MonkeyPatch,
                                                             elsewhere: Path) -> None:
    RegistryApp(StoreConfig(store_url)).close()  # the tables, and not one event
    monkeypatch.setenv("PLATFORMS_DATABASE_URL", store_url)
    line = failed_closed(invoke(["audit", "verify"]))
    assert "holds no events" in line and "OK" not in line


def test_reconcile_without_read_models_is_an_error_and_creates_none(elsewhere: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    events = elsewhere / "events.sqlite3"
    store_with_events(f"sqlite:///{events}")
    monkeypatch.setenv("PLATFORMS_DATABASE_URL", f"sqlite:///{events}")
    line = failed_closed(invoke(["audit", "reconcile"]))
    assert f"no read models at {elsewhere / 'events.read.sqlite3'}" in line and "projections rebuild" in line
    assert not (elsewhere / "events.read.sqlite3").exists()


@pytest.mark.parametrize("url", ["sqlite:/var/platforms.sqlite3", "sqlite:///", "mysql://registry@db/registry",
                                 f"postgresql+psycopg://registry:{PASSWORD}@db:port/registry",
                                 f"postgresql+psycopg://registry:{PASSWORD}@db:5432/"])
def test_malformed_url_is_a_configuration_error(elsewhere: Path, monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("PLATFORMS_DATABASE_URL", url)
    for command in (["audit", "verify"], ["ledger", "export"]):
        assert "PLATFORMS_DATABASE_URL=" in failed_closed(invoke(command), code=2)
    assert list(elsewhere.iterdir()) == []


# ---------------------------------------------------------------------------- PostgreSQL
@pytest.mark.postgres
@pytest.mark.parametrize("command", READ_ONLY, ids=IDS)
def test_postgres_schema_without_tables_is_an_error_and_stays_empty(postgres_url: str, elsewhere: Path,
                                                                   monkeypatch: pytest.MonkeyPatch,
                                                                   command: list[str]) -> None:
    url, schema = fresh_schema(postgres_url)
    try:
        monkeypatch.setenv("PLATFORMS_DATABASE_URL", url)
        line = failed_closed(invoke(command))
        assert f"schema {schema}: no table registry_events" in line
        assert tables_in_schema(postgres_url, schema) == []
    finally:
        drop_schema(postgres_url, schema)


@pytest.mark.postgres
def test_postgres_schema_that_does_not_exist_is_not_created(postgres_url: str, elsewhere: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    schema = "t_never_created"
    monkeypatch.setenv("PLATFORMS_DATABASE_URL", f"{postgres_url}?schema={schema}")
    for command in READ_ONLY:
        failed_closed(invoke(command))
    assert tables_in_schema(postgres_url, schema) is None


@pytest.mark.parametrize("command", READ_ONLY, ids=IDS)
def test_postgres_where_nothing_listens_is_an_error_with_the_password_masked(
        elsewhere: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]) -> None:
    monkeypatch.setenv("PLATFORMS_DATABASE_URL", f"postgresql+psycopg://registry:{PASSWORD}@127.0.0.1:1/registry")
    line = failed_closed(invoke(command))
    assert "cannot open the event store at 127.0.0.1:1/registry" in line
    assert "postgresql+psycopg://registry:***@127.0.0.1:1/registry" in line
    assert list(elsewhere.iterdir()) == []


# ---------------------------------------------------------------------------- real stores
def test_read_only_commands_work_on_a_real_store(store_url: str, elsewhere: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    store_with_events(store_url)
    monkeypatch.setenv("PLATFORMS_DATABASE_URL", store_url)
    monkeypatch.setenv("PLATFORMS_VAR_DIR", str(elsewhere / "state"))
    commands = [["audit", "verify"], ["audit", "export"], ["ledger", "export"], ["projections", "rebuild"],
                ["audit", "reconcile"], ["audit", "checkpoint"], ["audit", "proof", "inclusion", "--position", "1"],
                ["audit", "proof", "consistency", "--old-size", "1"], ["audit", "verify", "--workers", "2"]]
    results = [invoke(c) for c in commands]
    for command, result in zip(commands, results, strict=True):
        assert result.exit_code == 0, (command, result.output)
    verify, export, ledger = results[:3]
    assert "OK" in verify.stderr and '"ok": true' in verify.stdout
    # the scan split over two processes reports what one process does (a checkpoint was signed since)
    assert results[-1].stdout == invoke(["audit", "verify", "--workers", "1"]).stdout
    assert export.stdout.count("\n") == len(export.stdout.splitlines()) > 10
    assert "拨付" in ledger.stdout and ledger.stdout.splitlines()[-1].startswith("合计")


def test_event_table_name_is_the_librarys(registry: RegistryApp) -> None:
    assert events_table(registry.store) == registry.recorder.events_table_name


# ---------------------------------------------------------------------------- writers, masking, PLATFORMS_VAR_DIR
def test_writing_commands_still_create_the_store(elsewhere: Path) -> None:
    r = invoke(["users", "add", "alice", "--role", "bureau", "--password-stdin"], input="long-password\n")
    assert r.exit_code == 0, r.output
    assert (elsewhere / "var" / "platforms.sqlite3").is_file()


def test_serve_names_the_store_with_the_password_masked(elsewhere: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: None)
    monkeypatch.setenv("PLATFORMS_DATABASE_URL", f"postgresql+psycopg://registry:{PASSWORD}@db:5432/registry")
    r = invoke(["serve"])
    assert r.exit_code == 0, r.output
    assert "store postgresql+psycopg://registry:***@db:5432/registry" in r.stderr and PASSWORD not in r.output


@pytest.mark.parametrize("url, masked", [
    (f"postgresql+psycopg://registry:{PASSWORD}@db:5432/registry?schema=x",
     "postgresql+psycopg://registry:***@db:5432/registry?schema=x"),
    ("postgresql+psycopg://registry:p%40ss@db/registry", "postgresql+psycopg://registry:***@db/registry"),
    ("postgresql+psycopg://registry:p@ss@db/registry", "postgresql+psycopg://registry:***@db/registry"),
    ("postgresql+psycopg://registry@db/registry", "postgresql+psycopg://registry@db/registry"),
    ("sqlite:///var/platforms.sqlite3", "sqlite:///var/platforms.sqlite3"),
    ("postgresql+psycopg://u:pw@[::1/db", "postgresql+psycopg://u:***@[::1/db"),
])
def test_password_is_masked_in_every_form(url: str, masked: str) -> None:
    assert StoreConfig(url).masked == masked


def test_driver_errors_are_redacted_whether_the_password_is_encoded_or_not() -> None:
    store = StoreConfig("postgresql+psycopg://registry:p%40ss@db/registry")
    assert store.redact("auth failed with password p@ss or p%40ss") == "auth failed with password *** or ***"


def test_var_dir_holds_every_file_the_system_keeps(elsewhere: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    state = elsewhere.parent / "state"
    monkeypatch.setenv("PLATFORMS_VAR_DIR", str(state))
    assert invoke(["demo"]).exit_code == 0
    assert invoke(["audit", "checkpoint"]).exit_code == 0
    verify = invoke(["audit", "verify"])
    assert verify.exit_code == 0 and '"checkpoints_checked": 1' in verify.stdout, verify.output
    assert list(elsewhere.iterdir()) == []  # nothing under ./var
    kept = {str(p.relative_to(state)) for p in state.rglob("*") if p.is_file()}
    assert {"platforms.sqlite3", "platforms.read.sqlite3", "secret.key", "policies/demo-2025.json",
            "keys/checkpoint-ed25519.pem", "keys/checkpoint-ed25519.pub"} <= kept


def test_settings_default_store_follows_var_dir_and_an_explicit_url_wins(tmp_path: Path) -> None:
    from api.settings import Settings

    env = {"PLATFORMS_VAR_DIR": str(tmp_path / "state")}
    assert Settings.from_env(env=env).store.url == f"sqlite:///{tmp_path / 'state' / 'platforms.sqlite3'}"
    env["PLATFORMS_DATABASE_URL"] = "sqlite:///elsewhere.sqlite3"
    assert Settings.from_env(env=env).store.url == "sqlite:///elsewhere.sqlite3"


def test_read_only_commands_keep_the_operators_aggregate_cache_size(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The commands that open an existing store (audit, history) size their aggregate cache by
    PLATFORMS_AGGREGATE_CACHE like the server does: an operator who lowered it for a small
    machine gets that bound in every process."""
    from api.cli_store import existing_registry
    from api.settings import Settings

    url = f"sqlite:///{tmp_path / 'events.sqlite3'}"
    writer = RegistryApp(StoreConfig(url))
    Driver(writer).to("applied")
    writer.close()
    monkeypatch.setenv("PLATFORMS_DATABASE_URL", url)
    monkeypatch.setenv("PLATFORMS_AGGREGATE_CACHE", "7")
    registry = existing_registry(Settings())
    try:
        assert registry.repository.cache is not None and registry.repository.cache.maxsize == 7
    finally:
        registry.close()

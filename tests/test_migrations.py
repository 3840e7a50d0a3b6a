"""Schema migrations of every table beside the event log (``platforms migrate``), on SQLite and
PostgreSQL: a fresh store migrates to exactly the tables the code declares, a second run changes
nothing, two processes migrating at once both succeed, production refuses to serve or follow
the log on a schema that is not current (naming the command to run), development migrates by
itself, and a store from before migrations is adopted with its data."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from typer.testing import CliRunner

import api.login_throttle
import api.shared_limiter
import api.store_probe
import api.users
import audit.table_metadata
import projections.tables
from aggregates.application import RegistryApp
from aggregates.migrations import SchemaNotCurrent, check_current, databases, heads, migrate
from aggregates.store import StoreConfig
from api.cli import app as cli
from support import SRC, drop_schema, fresh_schema

SECRET = "migrations-test-secret-key-of-32-chars!!"

# What the code declares, by branch: a table or a column added here without a revision fails
# test_a_fresh_store_migrates_to_exactly_the_declared_tables.
DECLARED = {
    "store": (api.users.metadata, api.login_throttle.metadata, audit.table_metadata.METADATA, api.store_probe.METADATA,
              api.shared_limiter.METADATA),
    "read_models": (projections.tables.POSITIONS_MD, projections.tables.LIVE_MD),
}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A store of each kind on which nothing has run: no event table, no migration."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store' / 'events.sqlite3'}"
        return
    base = request.getfixturevalue("postgres_url")
    url, schema = fresh_schema(base)
    try:
        yield url
    finally:
        drop_schema(base, schema)


def _library_tables(url: str) -> set[str]:
    """The event store's own tables (the library's, and the log seal its recorder writes), as a
    registry opening the store creates them: not ours to migrate."""
    app = RegistryApp(StoreConfig(url))
    app.close()
    names: set[str] = set()
    for db in databases(StoreConfig(url)):
        names |= set(sa.inspect(db.engine).get_table_names())
        db.engine.dispose()
    return names


def _differences(url: str, library: set[str]) -> list[object]:
    """Alembic's autogenerate comparison of each database with the tables the code declares."""
    found: list[object] = []
    for db in databases(StoreConfig(url)):
        declared = sa.MetaData()
        for branch in db.branches:
            for md in DECLARED[branch]:
                for table in md.tables.values():
                    table.to_metadata(declared)

        def ours(name: str | None, kind: str, _parents: object) -> bool:
            return kind != "table" or name not in library | {"alembic_version"}

        try:
            with db.engine.connect() as conn:
                context = MigrationContext.configure(conn, opts={"include_name": ours, "compare_type": True})
                found += compare_metadata(context, declared)
        finally:
            db.engine.dispose()
    return found


def _versions(url: str) -> set[str]:
    found: set[str] = set()
    for db in databases(StoreConfig(url)):
        with db.engine.connect() as conn:
            found |= set(MigrationContext.configure(conn).get_current_heads())
        db.engine.dispose()
    return found


def _cli(*args: str, **env: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), env=env)
    return result.exit_code, result.output


def test_a_fresh_store_migrates_to_exactly_the_declared_tables(fresh_url: str) -> None:
    library = _library_tables(fresh_url)
    lines: list[str] = []
    applied = migrate(StoreConfig(fresh_url), lines.append)
    assert sorted(a.split(":")[0] for a in applied) == ["read0001", "read0002", "store0001"]
    assert any("applied store0001" in line for line in lines)
    assert not any("adopting" in line for line in lines)  # the library's tables are not ours
    assert _versions(fresh_url) == set(heads().values())
    assert _differences(fresh_url, library) == []
    check_current(StoreConfig(fresh_url))


def test_the_quick_check_knows_alembics_heads_and_only_an_exact_match_passes(fresh_url: str) -> None:
    """aggregates/schema_heads.py tells a current store without importing Alembic: its heads
    are Alembic's (a new revision not written there fails here), and a store not migrated,
    behind or ahead is left to the full check."""
    from aggregates.schema_heads import HEADS, at_heads

    assert HEADS == heads()
    store = StoreConfig(fresh_url)
    assert not at_heads(store)  # nothing migrated yet
    migrate(store)
    assert at_heads(store)
    for db in databases(store):
        try:
            with db.engine.begin() as conn:
                conn.exec_driver_sql("UPDATE alembic_version SET version_num = 'read0001' "
                                     "WHERE version_num = 'read0002'")
        finally:
            db.engine.dispose()
    assert not at_heads(store)  # behind: the full check names the command
    with pytest.raises(SchemaNotCurrent, match="behind"):
        check_current(store)


def test_read_models_rebuilt_and_swapped_in_keep_the_migrated_schema(fresh_url: str) -> None:
    """A rebuild replaces the read models' tables by shadows (projections/rebuild.py): the
    tables swapped in, their keys and indexes are still what the revision made."""
    from aggregates.programme import Driver
    from projections.db import make_engine
    from projections.rebuild import rebuild

    library = _library_tables(fresh_url)
    migrate(StoreConfig(fresh_url))
    app = RegistryApp(StoreConfig(fresh_url))
    engine = make_engine(app.store)
    try:
        Driver(app, subfield="智能芯片").to("funded")
        rebuild(app, engine, workers=1)
    finally:
        engine.dispose()
        app.close()
    assert _differences(fresh_url, library) == []


def test_a_table_declared_without_a_revision_is_a_difference(fresh_url: str) -> None:
    """The comparison above can fail: a column the code declares and no revision adds is found."""
    library = _library_tables(fresh_url)
    migrate(StoreConfig(fresh_url))
    extra = sa.Table("rm_ledger_by_year", projections.tables.LIVE_MD, sa.Column("fiscal_year", sa.Integer,
                                                                                  primary_key=True))
    try:
        assert [d[0] for d in _differences(fresh_url, library)] == ["add_table"]  # type: ignore[index]
    finally:
        projections.tables.LIVE_MD.remove(extra)


def test_migrating_again_applies_nothing_and_says_so(fresh_url: str) -> None:
    code, first = _cli("migrate", PLATFORMS_DATABASE_URL=fresh_url)
    assert code == 0 and "3 revision(s) applied" in first
    code, again = _cli("migrate", PLATFORMS_DATABASE_URL=fresh_url)
    assert code == 0, again
    assert "nothing to do" in again and "0 revision(s) applied; the schema is current" in again
    assert _versions(fresh_url) == set(heads().values())


def test_two_processes_migrating_a_fresh_store_at_once_both_succeed(fresh_url: str, tmp_path: Path) -> None:
    library = _library_tables(fresh_url)
    procs = [_platforms(tmp_path, "migrate", PLATFORMS_DATABASE_URL=fresh_url) for _ in range(2)]
    outputs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    # Each revision applied once, by one of them; the other found it done.
    applied = [line for out in outputs for line in out.splitlines() if ": applied " in line]
    assert sorted(line.split(": applied ")[1].split(":")[0] for line in applied) == ["read0001", "read0002",
                                                                                      "store0001"]
    assert _differences(fresh_url, library) == []


def _platforms(tmp_path: Path, *args: str, **env: str) -> subprocess.Popen:
    """``platforms ARGS`` in a process of its own, with no ``PLATFORMS_*`` setting of the test run."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PLATFORMS_")}
    environ |= {"PYTHONPATH": str(SRC), "PLATFORMS_VAR_DIR": str(tmp_path / "var"), **env}
    return subprocess.Popen([sys.executable, "-c", "from api.cli import app; app()", *args], env=environ,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_production_refuses_to_serve_or_follow_an_unmigrated_store_naming_the_command(
        fresh_url: str, tmp_path: Path) -> None:
    env = {"PLATFORMS_MODE": "production", "PLATFORMS_SECRET_KEY": SECRET, "PLATFORMS_DATABASE_URL": fresh_url}
    for command in (["serve"], ["projections", "run"]):
        proc = _platforms(tmp_path, *command, **env)
        output = proc.communicate(timeout=120)[0]
        assert proc.returncode == 2, output
        assert output.splitlines()[-1].startswith("error: the store's schema is not migrated: ")
        assert output.splitlines()[-1].endswith("; run `platforms migrate`")
        assert "Traceback" not in output
    code, output = _cli("migrate", **env)
    assert code == 0, output
    check_current(StoreConfig(fresh_url))  # what serve checks before it starts its workers


def test_development_migrates_where_production_refuses(fresh_url: str, tmp_path: Path) -> None:
    from api.bootstrap import build_container
    from api.settings import Settings

    production = Settings.from_env(database_url=fresh_url, var_dir=tmp_path / "var", secret_key=SECRET,
                                   mode="production")
    with pytest.raises(SchemaNotCurrent, match="run `platforms migrate`"):
        build_container(production)
    development = Settings.from_env(database_url=fresh_url, var_dir=tmp_path / "var", secret_key=SECRET)
    build_container(development).close()
    check_current(StoreConfig(fresh_url))
    build_container(production).close()


def test_a_schema_newer_than_the_release_is_neither_used_nor_migrated(fresh_url: str) -> None:
    migrate(StoreConfig(fresh_url))
    db = databases(StoreConfig(fresh_url))[0]
    try:
        with db.engine.begin() as conn:
            conn.execute(sa.text("UPDATE alembic_version SET version_num = 'store9999' "
                                 "WHERE version_num = 'store0001'"))
    finally:
        db.engine.dispose()
    with pytest.raises(SchemaNotCurrent, match="store9999, newer than this release knows"):
        check_current(StoreConfig(fresh_url))
    code, output = _cli("migrate", PLATFORMS_DATABASE_URL=fresh_url)
    assert code == 1 and "newer than this release knows" in output and "run the release that migrated it" in output


def test_a_store_from_before_migrations_is_adopted_with_its_data(fresh_url: str, tmp_path: Path) -> None:
    """A store as the release before migrations left it: every table present, no
    ``alembic_version``, accounts and checkpoints from before their later columns."""
    from aggregates.programme import Driver
    from api.bootstrap import build_container
    from api.settings import Settings
    from audit.checkpoint_store import latest_checkpoint
    from audit.checkpoints import sign_checkpoint
    from support import checkpoint_keys

    store = StoreConfig(fresh_url)
    library = _library_tables(fresh_url)
    settings = Settings.from_env(database_url=fresh_url, var_dir=tmp_path / "var", secret_key=SECRET,
                                 checkpoint_signer=False)
    c = build_container(settings)
    c.users.add("alice", "bureau", "correct-horse-battery")
    Driver(c.app, subfield="智能芯片").to("approved")
    signed = sign_checkpoint(c.app, checkpoint_keys().load_signer(), checkpoint_keys())
    c.runner.catch_up()
    c.close()
    for db in databases(store):
        with db.engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE alembic_version"))
            if "store" in db.branches:  # released before revocation and signed notes
                for table, column in (("users", "token_version"), ("users", "disabled_at"),
                                      ("users", "last_lockout_at"), ("audit_checkpoints", "note_signature")):
                    conn.execute(sa.text(f"ALTER TABLE {table} DROP COLUMN {column}"))
        db.engine.dispose()
    with pytest.raises(SchemaNotCurrent, match="not migrated"):
        check_current(store)

    code, output = _cli("migrate", PLATFORMS_DATABASE_URL=fresh_url)
    assert code == 0, output
    assert "adopting tables from before migrations: users, login_throttle, audit_checkpoints" in output
    assert _differences(fresh_url, library) == []
    c = build_container(settings.model_copy(update={"mode": "production"}))
    try:
        assert c.users.authenticate("alice", "correct-horse-battery") is not None
        assert latest_checkpoint(c.app) is not None and latest_checkpoint(c.app).size == signed.size
        with c.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM rm_platforms")).scalar() == 1
    finally:
        c.close()

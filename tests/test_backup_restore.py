"""Backup and restore (issue 16): ``platforms backup`` taken while a writer keeps recording
commands, ``platforms restore`` into an empty store, on SQLite and on PostgreSQL.

The restored log must equal the source's row for row (position, originator id, version, topic,
stored bytes) up to the backup's head and hold nothing written after it; it must verify against
the pinned key and the backup's last checkpoint; its rebuilt read models must equal the source's
at that position. A tampered or incomplete backup, a store that is not empty, a file that
differs from the backup's and a wrong passphrase are refused with one line and exit 1, before
anything is written. Keys are in a backup only with ``--include-keys``, encrypted.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner, Result

import audit.backup.sqlite_store
from aggregates.application import RegistryApp
from aggregates.event_table import event_table
from aggregates.programme import Driver, Programme
from aggregates.store import StoreConfig
from api.cli import app as cli
from audit.checkpoints import sign_checkpoint
from audit.rotation import rotate_checkpoint_key
from audit.timetravel import read_models_at
from audit.verify import verify_log
from projections.db import make_engine
from projections.tables import LIVE, MODEL_TABLES
from support import checkpoint_keys

runner = CliRunner()
PASSPHRASE = "correct horse battery staple"
# The manifest, the files and the keys are handled alike for both stores: these run on SQLite.
SQLITE_ONLY = pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
DEMO_POLICY = next((Path(__file__).parents[1] / "src" / "api" / "demo_policy").glob("*.json"))


def invoke(*args: str, input: str | None = None) -> Result:  # noqa: A002 - CliRunner's name
    return runner.invoke(cli, list(args), input=input)


def refused(result: Result) -> str:
    """The one error line of a command refused with exit 1, without a traceback."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    last = result.stderr.splitlines()[-1]
    assert last.startswith("error: "), result.stderr
    return last


# ---------------------------------------------------------------- the stores
@contextmanager
def scratch_database(store_url: str) -> Iterator[str]:
    """A new PostgreSQL database holding an empty schema of the source's name: a dump restores
    into a schema of its own name, so a scratch restore goes into another database."""
    source = StoreConfig(store_url)
    params = source.postgres_params()
    name = f"restore_{uuid.uuid4().hex[:10]}"
    admin = dict(host=params["host"], port=params["port"], user=params["user"], password=params["password"] or None)
    with psycopg.connect(dbname=params["dbname"], autocommit=True, **admin) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        with psycopg.connect(dbname=name, autocommit=True, **admin) as conn:
            conn.execute(f'CREATE SCHEMA "{source.schema}"')
        base = store_url.split("?", 1)[0].rsplit("/", 1)[0]
        yield f"{base}/{name}?schema={source.schema}"
    finally:
        with psycopg.connect(dbname=params["dbname"], autocommit=True, **admin) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def empty_target(store_url: str, tmp_path: Path) -> Iterator[str]:
    if store_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored' / 'platforms.sqlite3'}"
        return
    with scratch_database(store_url) as url:
        yield url


def use_store(monkeypatch: pytest.MonkeyPatch, url: str, var_dir: Path) -> None:
    monkeypatch.setenv("PLATFORMS_DATABASE_URL", url)
    monkeypatch.setenv("PLATFORMS_VAR_DIR", str(var_dir))


def switch_to(monkeypatch: pytest.MonkeyPatch, url: str, var: Path) -> None:
    """The settings of another deployment, for the restore: its store, its own var directory,
    policy directory, checkpoint keys and witness list, all empty."""
    use_store(monkeypatch, url, var)
    monkeypatch.setenv("PLATFORMS_POLICY_DIR", str(var / "policies"))
    monkeypatch.setenv("PLATFORMS_CHECKPOINT_KEY", str(var / "keys" / "checkpoint.pem"))
    monkeypatch.setenv("PLATFORMS_WITNESS_KEYS", str(var / "witnesses.txt"))


@pytest.fixture
def source(store_url: str, keys: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RegistryApp]:
    """The source store, as the command line finds it: a funded platform, a checkpoint signed
    over it (the ``keys`` fixture's key, under ``tmp_path/keys``), a witness list, a policy
    directory with one file."""
    use_store(monkeypatch, store_url, tmp_path / "var")
    monkeypatch.setenv("PLATFORMS_MODE", "development")
    monkeypatch.delenv("PLATFORMS_SECRET_KEY", raising=False)
    policies = tmp_path / "var" / "policies"
    policies.mkdir(parents=True)
    (policies / "extra.json").write_bytes(DEMO_POLICY.read_bytes())
    monkeypatch.setenv("PLATFORMS_POLICY_DIR", str(policies))
    registry = RegistryApp(StoreConfig(store_url))
    Driver(registry).to("funded")
    keys_ = checkpoint_keys()
    sign_checkpoint(registry, keys_.load_signer(), keys_)
    yield registry
    registry.close()


@pytest.fixture
def restore_side(tmp_path: Path) -> Path:
    """The var directory of the deployment restored into (see :func:`switch_to`)."""
    return tmp_path / "restored-var"


class Writer:
    """A thread recording applications through the application until stopped."""

    def __init__(self, registry: RegistryApp) -> None:
        self.programme = Programme(registry)
        self.recorded = 0
        self.failure: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="backup-test-writer", daemon=True)

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                self.programme.apply()
                self.recorded += 1
        except BaseException as exc:  # noqa: BLE001 - reported by stop()
            self.failure = exc

    def __enter__(self) -> Writer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=60)
        assert self.failure is None, self.failure


def rows(registry: RegistryApp, upto: int | None = None) -> list[tuple[Any, ...]]:
    """Every stored event row: (position, originator id, version, topic, state bytes)."""
    with event_table(registry).snapshot() as snap:
        return [tuple(r) for batch in snap.rows(upto=upto) for r in batch]


def model_rows(engine: sa.Engine) -> dict[str, list[tuple[str, ...]]]:
    """Every read-model row, as text (SQLite and PostgreSQL return dates and numbers differently)."""
    out = {}
    with engine.connect() as conn:
        for names in MODEL_TABLES.values():
            for name in names:
                out[name] = sorted(tuple("" if v is None else str(v) for v in r)
                                   for r in conn.execute(sa.select(LIVE[name])))
    return out


# ---------------------------------------------------------------- backup under load, restore
def test_backup_under_write_load_restores_every_event_up_to_its_head_and_none_after(
        source: RegistryApp, store_url: str, restore_side: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audit.backup.sqlite_store, "PAGES_PER_STEP", 4)  # many steps, the writer between them
    out = tmp_path / "backup"
    with Writer(source) as writer:
        while writer.recorded < 5:
            threading.Event().wait(0.01)
        before = source.recorder.max_notification_id()
        result = invoke("backup", "--out", str(out))
        during = source.recorder.max_notification_id()
        while source.recorder.max_notification_id() < during + 5:  # writes after the backup
            threading.Event().wait(0.01)
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "MANIFEST.json").read_text(encoding="utf-8"))
    head = manifest["log"]["head_position"]
    assert before <= head <= during and during > before, "the writer kept writing while the backup ran"
    assert manifest["keys"]["included"] is False and not (out / "keys.enc").exists()
    assert {f["role"] for f in manifest["files"]} == {"events", "policy", "checkpoint_public_key", "witness_keys"}

    with empty_target(store_url, tmp_path) as target:
        switch_to(monkeypatch, target, restore_side)
        restored = invoke("restore", str(out))
        assert restored.exit_code == 0, restored.output
        assert f"up to position {head}" in restored.stdout and "read models rebuilt" in restored.stdout
        copy = RegistryApp(StoreConfig(target), env={"CREATE_TABLE": "no"})
        try:
            expected = rows(source, upto=head)
            assert rows(copy) == expected, "the restored log differs from the source's up to the backup's head"
            assert len(expected) == manifest["log"]["events"] and expected[-1][0] == head
            assert len(rows(source)) > len(expected), "the writes after the backup are absent from the restore"
            pinned = (restore_side / "keys" / "checkpoint.pub").read_bytes()
            assert pinned == (tmp_path / "keys" / "checkpoint.pub").read_bytes()
            assert verify_log(copy, public_key_pem=pinned).ok
            assert (restore_side / "policies" / "extra.json").read_bytes() == DEMO_POLICY.read_bytes()
            engine = make_engine(StoreConfig(target))
            at_head = read_models_at(source, head)
            try:
                assert model_rows(engine) == model_rows(at_head)
            finally:
                engine.dispose()
                at_head.dispose()
        finally:
            copy.close()
        assert invoke("audit", "verify").exit_code == 0


@SQLITE_ONLY
def test_a_store_whose_checkpoint_key_was_rotated_is_restored_with_its_retired_key_and_verifies(
        source: RegistryApp, store_url: str, restore_side: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The checkpoints signed before a rotation verify only under the retired key: the backup
    carries the retired keys' file and the restore puts it beside the pinned key."""
    rotate_checkpoint_key(source, checkpoint_keys())
    retired = tmp_path / "keys" / "checkpoint.retired.json"
    assert retired.is_file()
    out = tmp_path / "backup"
    assert invoke("backup", "--out", str(out)).exit_code == 0
    manifest = json.loads((out / "MANIFEST.json").read_text(encoding="utf-8"))
    assert "checkpoint_retired_keys" in {f["role"] for f in manifest["files"]}

    switch_to(monkeypatch, f"sqlite:///{tmp_path / 'restored' / 'platforms.sqlite3'}", restore_side)
    restored = invoke("restore", str(out))
    assert restored.exit_code == 0, restored.output
    assert (restore_side / "keys" / "checkpoint.retired.json").read_bytes() == retired.read_bytes()
    verified = invoke("audit", "verify")
    assert verified.exit_code == 0, verified.output


# ---------------------------------------------------------------- refusals
@pytest.fixture
def taken(source: RegistryApp, tmp_path: Path) -> Path:
    """A backup of the source, keys left out."""
    out = tmp_path / "backup"
    result = invoke("backup", "--out", str(out))
    assert result.exit_code == 0, result.output
    return out


def test_restore_refuses_a_store_that_is_not_empty_and_leaves_it_as_it_was(
        taken: Path, source: RegistryApp) -> None:
    """Restoring over the source itself (the settings still name it) is refused, naming it."""
    before = rows(source)
    line = refused(invoke("restore", str(taken)))
    assert "the target store is not empty" in line
    assert rows(source) == before


@SQLITE_ONLY
@pytest.mark.parametrize("damage", ["altered", "missing"])
def test_a_tampered_or_incomplete_backup_is_refused_before_anything_is_restored(
        damage: str, taken: Path, store_url: str, restore_side: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    policy = taken / "files" / "policies" / "extra.json"
    if damage == "altered":
        policy.write_bytes(policy.read_bytes().replace(b"}", b"} ", 1))
    else:
        policy.unlink()
    target = tmp_path / "restored" / "platforms.sqlite3"
    switch_to(monkeypatch, f"sqlite:///{target}", restore_side)
    line = refused(invoke("restore", str(taken)))
    assert "files/policies/extra.json" in line
    assert ("does not match its SHA-256" if damage == "altered" else "is missing") in line
    assert not target.exists() and not (restore_side / "policies").exists()


@SQLITE_ONLY
def test_a_backup_is_checked_without_restoring_it_and_damage_is_named(taken: Path, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """``platforms backup-check DIR`` checks what a restore checks first, opening no store: the
    settings name a store that does not exist, and it is not created."""
    nowhere = tmp_path / "nowhere" / "platforms.sqlite3"
    monkeypatch.setenv("PLATFORMS_DATABASE_URL", f"sqlite:///{nowhere}")
    intact = invoke("backup-check", str(taken))
    assert intact.exit_code == 0, intact.output
    manifest = json.loads((taken / "MANIFEST.json").read_text(encoding="utf-8"))
    assert f"is intact: {len(manifest['files'])} files match MANIFEST.json" in intact.stdout
    assert f"{manifest['log']['events']} events up to position {manifest['log']['head_position']}" in intact.stdout
    assert "keys not included" in intact.stdout
    policy = taken / "files" / "policies" / "extra.json"
    policy.write_bytes(policy.read_bytes().replace(b"}", b"} ", 1))
    assert "files/policies/extra.json does not match its SHA-256" in refused(invoke("backup-check", str(taken)))
    policy.unlink()
    assert "files/policies/extra.json is missing" in refused(invoke("backup-check", str(taken)))
    assert "not a directory" in refused(invoke("backup-check", str(tmp_path / "no-such-backup")))
    assert not nowhere.exists() and not nowhere.parent.exists()


@SQLITE_ONLY
def test_restore_refuses_a_file_that_differs_from_the_backups(
        taken: Path, store_url: str, restore_side: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (restore_side / "policies").mkdir(parents=True)
    (restore_side / "policies" / "extra.json").write_text("[1]\n", encoding="utf-8")
    target = tmp_path / "restored" / "platforms.sqlite3"
    switch_to(monkeypatch, f"sqlite:///{target}", restore_side)
    line = refused(invoke("restore", str(taken)))
    assert "extra.json exists and differs" in line
    assert not target.exists()


@SQLITE_ONLY
def test_backup_refuses_a_directory_that_is_not_empty(source: RegistryApp, tmp_path: Path,
                                                      store_url: str) -> None:
    out = tmp_path / "used"
    out.mkdir()
    (out / "old").write_text("x", encoding="utf-8")
    line = refused(invoke("backup", "--out", str(out)))
    assert "not an empty directory" in line
    assert sorted(p.name for p in out.iterdir()) == ["old"]


# ---------------------------------------------------------------- keys
def _secrets(tmp_path: Path) -> list[bytes]:
    token = (tmp_path / "var" / "secret.key")
    token.parent.mkdir(parents=True, exist_ok=True)
    if not token.exists():
        token.write_text("t" * 48, encoding="ascii")
    return [token.read_bytes(), (tmp_path / "keys" / "checkpoint.pem").read_bytes()]


@SQLITE_ONLY
def test_keys_are_left_out_without_the_flag(taken: Path, tmp_path: Path) -> None:
    manifest = json.loads((taken / "MANIFEST.json").read_text(encoding="utf-8"))
    assert manifest["keys"]["included"] is False
    assert manifest["keys"]["where"]["checkpoint_private_key"] == str(tmp_path / "keys" / "checkpoint.pem")
    private = (tmp_path / "keys" / "checkpoint.pem").read_bytes()
    body = private.split(b"-----")[2].strip()
    for path in taken.rglob("*"):
        if path.is_file():
            assert body not in path.read_bytes(), f"{path} holds the checkpoint private key"


@SQLITE_ONLY
def test_keys_round_trip_encrypted_with_the_flag_and_a_wrong_passphrase_restores_nothing(
        source: RegistryApp, store_url: str, restore_side: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    token, private = _secrets(tmp_path)
    out = tmp_path / "with-keys"
    result = invoke("backup", "--out", str(out), "--include-keys", "--keys-passphrase-stdin", input=PASSPHRASE + "\n")
    assert result.exit_code == 0, result.output
    sealed = (out / "keys.enc").read_bytes()
    assert token not in sealed and private.split(b"-----")[2].strip() not in sealed
    assert oct((out / "keys.enc").stat().st_mode & 0o777) == "0o600" and oct(out.stat().st_mode & 0o777) == "0o700"

    target = tmp_path / "restored" / "platforms.sqlite3"
    switch_to(monkeypatch, f"sqlite:///{target}", restore_side)
    line = refused(invoke("restore", str(out), "--keys-passphrase-stdin", input="not the passphrase\n"))
    assert "wrong passphrase" in line
    assert not target.exists() and not (restore_side / "keys").exists()

    restored = invoke("restore", str(out), "--keys-passphrase-stdin", input=PASSPHRASE + "\n")
    assert restored.exit_code == 0, restored.output
    assert (restore_side / "secret.key").read_bytes() == token
    assert (restore_side / "keys" / "checkpoint.pem").read_bytes() == private
    assert oct((restore_side / "keys" / "checkpoint.pem").stat().st_mode & 0o777) == "0o600"


@SQLITE_ONLY
def test_a_backup_of_a_log_that_does_not_verify_is_restored_but_refused_with_the_finding(
        taken: Path, restore_side: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An event altered inside the backup, its manifest rewritten to match (as whoever altered it
    would): the hashes pass, the audit verification against the pinned key does not."""
    import hashlib
    import sqlite3

    copy = taken / "store" / "platforms.sqlite3"
    conn = sqlite3.connect(copy)
    with conn:
        conn.execute("UPDATE stored_events SET state = CAST(state || ' ' AS BLOB) WHERE rowid = 3")
    conn.close()
    manifest_file = taken / "MANIFEST.json"
    manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    for entry in manifest["files"]:
        if entry["role"] == "events":
            entry["size"], entry["sha256"] = copy.stat().st_size, hashlib.sha256(copy.read_bytes()).hexdigest()
    manifest_file.write_text(json.dumps(manifest), encoding="utf-8")
    target = tmp_path / "restored" / "platforms.sqlite3"
    switch_to(monkeypatch, f"sqlite:///{target}", restore_side)
    line = refused(invoke("restore", str(taken)))
    assert "the restored log does not verify: at position 3" in line
    assert "left as it is for examination" in line

"""The signed-note and witness tests' helpers (no tests here): the registry's keys and witness
list (the ``keys`` fixture that makes them under the test's own directory is in ``conftest.py``),
a growing log, raw SQL on either store, and a witness driving the registry in-process through the
API test client."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from api_client import Api, application
from audit.checkpoints import sign_checkpoint
from audit.signing import SignedCheckpoint

ORIGIN = "registry.test/platforms"


@dataclass
class Keys:
    """The checkpoint key and the witnesses this test's registry knows."""

    root: Path
    witness_file: Path
    witnesses: dict[str, Path] = field(default_factory=dict)

    @property
    def log_public_key(self) -> Path:
        return self.root / "keys" / "checkpoint.pub"

    def add_witness(self, name: str, label: str | None = None, listed: bool = True) -> Path:
        """A new witness key; listed in PLATFORMS_WITNESS_KEYS (with ``label``) unless not ``listed``."""
        from audit.witness import create_witness_key

        path = self.root / "witnesses" / name.replace("/", "_") / "witness.key"
        vkey = create_witness_key(path, name)
        if listed:
            with self.witness_file.open("a", encoding="utf-8") as fh:
                fh.write(f"{vkey} {label}\n" if label else f"{vkey}\n")
        self.witnesses[name] = path
        return path


def grow(api: Api, n: int = 1) -> None:
    """Append events: ``n`` new applications."""
    for i in range(n):
        r = api.post("/platforms", "applicant", application(name=f"见证测试平台{api.last_position}-{i}"))
        assert r.status_code == 201, r.text


def sign(api: Api) -> SignedCheckpoint:
    keys = api.container.settings.checkpoint_keys
    return sign_checkpoint(api.container.app, keys.load_signer(), keys)


def witness_for(client: Any, keys: Keys, name: str, **kw: Any) -> Any:
    """The witness ``name`` (see :meth:`Keys.add_witness`) watching the registry behind ``client``
    (an httpx client: the API's TestClient, or one on a fake log); its state beside its key."""
    from audit.witness import Witness, load_log_key, load_witness_key

    key_path = keys.witnesses[name]
    key_name, key = load_witness_key(key_path)
    return Witness(client, load_log_key(keys.log_public_key), key_name, key, state_of(keys, name), **kw)


def state_of(keys: Keys, name: str) -> Path:
    return keys.witnesses[name].with_name("state.json")


def sql(app: Any, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Run ``statement`` straight on the store (``{schema}`` prefixes table names on PostgreSQL,
    ``?`` placeholders); returns the rows it selects."""
    if app.store.is_sqlite:
        conn = sqlite3.connect(app.store.sqlite_path)
        try:
            with conn:
                return conn.execute(statement.format(schema=""), params).fetchall()
        finally:
            conn.close()
    schema = f'"{app.recorder.datastore.schema}".'
    with app.recorder.datastore.transaction(commit=True) as cur:
        cur.execute(statement.format(schema=schema).replace("?", "%s"), params)
        return [tuple(r.values()) for r in cur.fetchall()] if cur.description else []

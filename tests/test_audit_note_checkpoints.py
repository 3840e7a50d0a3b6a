"""Checkpoints as signed notes, on SQLite and PostgreSQL: stored beside the checkpoint (an old
``audit_checkpoints`` table gains the columns when ``platforms migrate`` adopts its store, its
rows are served without a note), published as
JSON with ``note`` and as ``text/plain``, every checkpoint listed in order, and consistency
proofs public."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from aggregates.application import RegistryApp
from aggregates.migrations import migrate
from aggregates.store import StoreConfig
from api.cli import app as cli
from api.routes_audit import wants_note
from api_client import Api
from audit import note
from audit.checkpoint_store import checkpoints_after, latest_checkpoint, store_checkpoint
from audit.checkpoints import sign_checkpoint
from audit.merkle import root_from_leaf_hashes
from audit.proofs import leaf_hashes
from audit.published import latest_view, views_after
from audit.signing import CheckpointSigner
from support import checkpoint_keys
from witness_support import ORIGIN, Keys, grow, sign, sql

OLD_DDL = {
    "sqlite": "CREATE TABLE audit_checkpoints (id INTEGER PRIMARY KEY AUTOINCREMENT, size INTEGER NOT NULL, "
              "root TEXT NOT NULL, signed_at TEXT NOT NULL, key_id TEXT NOT NULL, signature TEXT NOT NULL)",
    "postgres": "CREATE TABLE {schema}audit_checkpoints (id bigserial PRIMARY KEY, size bigint NOT NULL, "
                "root text NOT NULL, signed_at text NOT NULL, key_id text NOT NULL, signature text NOT NULL)",
}


def _columns(app: RegistryApp) -> set[str]:
    if app.store.is_sqlite:
        return {r[1] for r in sql(app, "PRAGMA table_info(audit_checkpoints)")}
    return {r[0] for r in sql(app, "SELECT column_name FROM information_schema.columns WHERE table_schema = ? "
                                   "AND table_name = 'audit_checkpoints'", (app.recorder.datastore.schema,))}


def _log_key_line() -> str:
    """What `platforms audit log-key` prints: the verifier key standard note tools are given."""
    result = CliRunner().invoke(cli, ["audit", "log-key"])
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def test_an_old_checkpoint_table_gains_the_note_columns_and_keeps_its_rows(
        store_url: str, keys: Keys) -> None:
    from aggregates.programme import Driver

    first = RegistryApp(StoreConfig(store_url))
    try:
        Driver(first, subfield="智能芯片").to("accepted")
        signer = checkpoint_keys().load_signer()
        leaves, _ = leaf_hashes(first)  # read without touching the audit tables
        old = signer.sign(len(leaves), root_from_leaf_hashes(leaves), datetime(2025, 1, 2, tzinfo=UTC))
        # The store as a release before migrations and signed notes left it.
        sql(first, "DROP TABLE {schema}audit_checkpoints")
        sql(first, "DELETE FROM {schema}alembic_version WHERE substr(version_num, 1, 5) = 'store'")
        sql(first, OLD_DDL["sqlite" if first.store.is_sqlite else "postgres"])
        sql(first, "INSERT INTO {schema}audit_checkpoints (size, root, signed_at, key_id, signature) "
                   "VALUES (?,?,?,?,?)", (old.size, old.root_hex, old.signed_at, old.key_id, old.signature_b64))
        assert "note_signature" not in _columns(first)
    finally:
        first.close()

    migrate(StoreConfig(store_url))  # adopts the old store
    app = RegistryApp(StoreConfig(store_url))
    try:
        assert latest_checkpoint(app) == old
        view = latest_view(app)
        assert view is not None and view["id"] == 1 and view["note"] is None and view["origin"] is None
        assert view["cosignatures"] == [] and view["root"] == old.root_hex
        assert {"origin", "note_signature"} <= _columns(app)

        new = sign_checkpoint(app, signer, checkpoint_keys())
        views = views_after(app, 0, 10)
        assert [v["id"] for v in views] == [1, 2] and views[0]["note"] is None
        text, sigs = note.open_note(views[1]["note"], [note.VerifierKey.parse(_log_key_line())])
        assert note.parse_checkpoint(text) == note.Checkpoint(ORIGIN, new.size, bytes.fromhex(new.root_hex))
        assert [s.name for s in sigs] == [ORIGIN]
    finally:
        app.close()


def test_the_in_memory_store_keeps_notes_too(memory_registry: RegistryApp, tmp_path) -> None:
    signer = CheckpointSigner.load_or_create(tmp_path / "k.pem", create=True)
    plain = signer.sign(0, bytes(32), datetime(2025, 1, 2, tzinfo=UTC))
    store_checkpoint(memory_registry, plain)
    store_checkpoint(memory_registry, plain, ORIGIN, signer.sign_note(ORIGIN, 0, bytes(32)))
    stored = checkpoints_after(memory_registry)
    assert [(s.id, s.origin) for s in stored] == [(1, None), (2, ORIGIN)]
    assert [v["note"] is not None for v in views_after(memory_registry, 0, 5)] == [False, True]
    assert [s.id for s in checkpoints_after(memory_registry, after=1, limit=1)] == [2]


def test_the_checkpoint_as_json_and_as_a_signed_note(keys: Keys, api: Api) -> None:
    r = api.client.get("/api/v1/audit/checkpoint", headers={"Accept": "text/plain"})
    assert r.status_code == 404 and r.json()["code"] == "no_checkpoint"
    grow(api, 2)
    cp = sign(api)
    body = api.client.get("/api/v1/audit/checkpoint").json()
    for field in ("size", "root", "signed_at", "key_id", "signature"):  # the contract's fields, unchanged
        assert body[field] == cp.to_dict()[field]
    assert body["origin"] == ORIGIN and body["cosignatures"] == [] and body["id"] == 1

    r = api.client.get("/api/v1/audit/checkpoint", headers={"Accept": "text/plain"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    assert r.text == body["note"]
    text, _ = note.open_note(r.text, [note.VerifierKey.parse(_log_key_line())])
    assert note.parse_checkpoint(text) == note.Checkpoint(ORIGIN, cp.size, bytes.fromhex(cp.root_hex))
    assert r.text.startswith(f"{ORIGIN}\n{cp.size}\n") and f"\n\n\u2014 {ORIGIN} " in r.text
    # A browser's Accept (JSON via */*) still gets JSON.
    browser = api.client.get("/api/v1/audit/checkpoint", headers={"Accept": "text/html,*/*;q=0.8"})
    assert browser.headers["content-type"].startswith("application/json")


def test_an_old_latest_checkpoint_has_no_note_to_serve(keys: Keys, api: Api) -> None:
    grow(api)
    cp = checkpoint_keys().load_signer().sign(1, bytes(32), datetime.now(UTC))
    store_checkpoint(api.container.app, cp)  # signed the old way: no note
    r = api.client.get("/api/v1/audit/checkpoint", headers={"Accept": "text/plain"})
    assert r.status_code == 406 and r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "no_signed_note"
    assert api.client.get("/api/v1/audit/checkpoint").json()["note"] is None


def test_every_checkpoint_is_listed_in_order_and_paged(keys: Keys, api: Api) -> None:
    sizes = []
    for _ in range(3):
        grow(api)
        sizes.append(sign(api).size)
    page = api.client.get("/api/v1/audit/checkpoints", params={"limit": 2}).json()
    assert [i["size"] for i in page["items"]] == sizes[:2] and page["next_after"] == 2
    rest = api.client.get("/api/v1/audit/checkpoints", params={"after": page["next_after"]}).json()
    assert [i["id"] for i in rest["items"]] == [3] and rest["next_after"] is None
    assert all(i["note"] and i["origin"] == ORIGIN and i["cosignatures"] == [] for i in page["items"] + rest["items"])
    assert api.client.get("/api/v1/audit/checkpoints", params={"limit": 0}).status_code == 422


def test_consistency_proofs_are_public_inclusion_proofs_are_not(keys: Keys, api: Api) -> None:
    grow(api, 2)
    first = sign(api)
    grow(api)
    second = sign(api)
    r = api.client.get("/api/v1/audit/proofs/consistency",
                       params={"old_size": first.size, "new_size": second.size})
    assert r.status_code == 200, r.text
    assert (r.json()["old_root"], r.json()["new_root"]) == (first.root_hex, second.root_hex)
    assert api.client.get("/api/v1/audit/proofs/inclusion", params={"position": 1}).status_code == 401


@pytest.mark.parametrize(("accept", "note_wanted"), [
    (None, False), ("", False), ("application/json", False), ("*/*", False), ("text/*", False),
    ("text/plain", True), ("text/plain; charset=utf-8", True), ("application/json, text/plain", False),
    ("application/json;q=0.5, text/plain", True), ("text/plain;q=0, application/json", False),
    ("text/html,application/xhtml+xml,*/*;q=0.8", False), ("text/plain;q=0.9, */*;q=0.1", True),
    ("text/plain;q=bogus", False),
])
def test_accept_negotiation(accept: str | None, note_wanted: bool) -> None:
    assert wants_note(accept) is note_wanted

"""A witness refuses, and reports, a log that forks or rewrites what it cosigned: on the real
registry (SQLite and PostgreSQL) with checkpoints forged by the log's own key and rows tampered in
the database, and on a fake log served over httpx.MockTransport for the cases the registry itself
never produces (a rollback, another key, another origin, a garbage proof, an unreachable log)."""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from api_client import Api
from audit import note
from audit.checkpoint_store import store_checkpoint
from audit.merkle import consistency_proof, root_from_leaf_hashes
from audit.proofs import leaf_hashes
from audit.signing import CheckpointSigner
from support import checkpoint_keys
from witness_support import ORIGIN, Keys, grow, sign, sql, state_of, witness_for

AUDIT = "sjj.changsha.example/witness"


def _forge(api: Api, size: int, root: bytes) -> None:
    """What a forking log does: sign, with its own key, a tree head it never verified."""
    signer = checkpoint_keys().load_signer(create=False)
    cp = signer.sign(size, root, datetime.now(UTC))
    store_checkpoint(api.container.app, cp, ORIGIN, signer.sign_note(ORIGIN, size, root))


def _refused(outcome: Any, code: str) -> None:
    assert (outcome.status, outcome.code) == ("refused", code), outcome
    assert not outcome.ok


def _error_records(caplog: pytest.LogCaptureFixture, reason: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno == logging.ERROR and getattr(r, "reason", None) == reason]


def test_same_size_with_another_root_is_refused_and_reported(
        keys: Keys, api: Api, caplog: pytest.LogCaptureFixture) -> None:
    keys.add_witness(AUDIT, "市审计局")
    witness = witness_for(api.client, keys, AUDIT)
    grow(api, 2)
    honest = sign(api)
    assert witness.once().status == "cosigned"
    before = state_of(keys, AUDIT).read_bytes()

    _forge(api, honest.size, hashlib.sha256(b"another history").digest())
    with caplog.at_level(logging.ERROR, logger="audit.witness"):
        outcome = witness.once()
    _refused(outcome, "fork")
    assert state_of(keys, AUDIT).read_bytes() == before
    [record] = _error_records(caplog, "fork")
    assert record.last_size == honest.size
    evidence = Path(record.evidence).read_text(encoding="utf-8")
    assert evidence.startswith("refused: fork\n") and evidence.count(f"{ORIGIN}\n{honest.size}\n") == 2
    assert str(record.evidence) in outcome.detail
    # Nothing was cosigned for the forged head.
    assert api.client.get("/api/v1/audit/checkpoint").json()["cosignatures"] == []


def _tamper_first_event(api: Api) -> None:
    app = api.container.app
    table, pos = app.recorder.events_table_name, "rowid" if app.store.is_sqlite else "notification_id"
    [(position, state)] = sql(app, f"SELECT {pos}, state FROM {{schema}}{table} ORDER BY {pos} LIMIT 1")
    sql(app, f"UPDATE {{schema}}{table} SET state = ? WHERE {pos} = ?", (bytes(state) + b" ", position))


def test_a_root_inconsistent_with_the_cosigned_one_is_refused(
        keys: Keys, api: Api, caplog: pytest.LogCaptureFixture) -> None:
    keys.add_witness(AUDIT, "市审计局")
    witness = witness_for(api.client, keys, AUDIT)
    grow(api, 2)
    sign(api)
    assert witness.once().status == "cosigned"
    before = state_of(keys, AUDIT).read_bytes()

    # History rewritten under the cosigned checkpoint, the log grown, and the result signed by a
    # log that skips its own verifier: every proof the registry now serves is over the new bytes.
    _tamper_first_event(api)
    grow(api)
    leaves, _ = leaf_hashes(api.container.app)
    _forge(api, len(leaves), root_from_leaf_hashes(leaves))
    with caplog.at_level(logging.ERROR, logger="audit.witness"):
        _refused(witness.once(), "inconsistent")
    assert _error_records(caplog, "inconsistent")
    assert state_of(keys, AUDIT).read_bytes() == before


# ---------------------------------------------------------------------------- a fake log
class FakeLog:
    """A log as a witness sees it: the note it is told to serve, proofs over its leaves, and the
    cosignatures it receives."""

    def __init__(self, signer: CheckpointSigner) -> None:
        self.signer = signer
        self.leaves: list[bytes] = []
        self.note = ""
        self.posted: list[dict[str, Any]] = []
        self.tamper_proof = False
        self.down = False

    def grow(self, n: int) -> None:
        self.leaves += [hashlib.sha256(b"leaf %d" % i).digest() for i in range(len(self.leaves), len(self.leaves) + n)]

    def publish(self, size: int | None = None, signer: CheckpointSigner | None = None, origin: str = ORIGIN) -> None:
        size = len(self.leaves) if size is None else size
        root = root_from_leaf_hashes(self.leaves[:size])
        sig = (signer or self.signer).sign_note(origin, size, root)
        self.note = note.format_note(note.checkpoint_text(origin, size, root), [sig])

    def handle(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        path = request.url.path
        if path == "/api/v1/audit/checkpoint":
            return httpx.Response(200, text=self.note, headers={"content-type": "text/plain; charset=utf-8"})
        if path == "/api/v1/audit/proofs/consistency":
            old, new = int(request.url.params["old_size"]), int(request.url.params["new_size"])
            proof = [h.hex() for h in consistency_proof(old, self.leaves[:new])]
            if self.tamper_proof:
                proof[0] = "00" * 32
            return httpx.Response(200, json={"old_size": old, "new_size": new, "proof": proof})
        if path == "/api/v1/audit/cosignatures" and request.method == "POST":
            import json

            self.posted.append(json.loads(request.content))
            return httpx.Response(201, json={})
        return httpx.Response(404, json={"code": "not_found"})

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self.handle), base_url="http://registry.test")


@pytest.fixture
def fake(keys: Keys) -> FakeLog:
    log = FakeLog(checkpoint_keys().load_signer(create=False))
    log.grow(5)
    log.publish()
    return log


def test_the_fake_log_is_cosigned_while_it_behaves(fake: FakeLog, keys: Keys) -> None:
    keys.add_witness(AUDIT)
    witness = witness_for(fake.client(), keys, AUDIT)
    assert witness.once().status == "cosigned"
    fake.grow(6)
    fake.publish()
    assert witness.once().status == "cosigned"
    assert [note.parse_checkpoint(p["checkpoint"]).size for p in fake.posted] == [5, 11]
    assert all(p["cosignature"].startswith(f"\u2014 {AUDIT} ") for p in fake.posted)


@pytest.mark.parametrize(("misbehave", "code"), [
    (lambda log, other: log.publish(size=3), "rollback"),
    (lambda log, other: (log.grow(2), log.publish(signer=other)), "bad_log_signature"),
    (lambda log, other: (log.grow(2), log.publish(origin="elsewhere.example/log")), "origin_mismatch"),
    (lambda log, other: (log.grow(2), setattr(log, "tamper_proof", True), log.publish()), "inconsistent"),
    (lambda log, other: setattr(log, "note", "hello\n\n\u2014 x AAAAAAAA\n"), "malformed_checkpoint"),
])
def test_misbehaviour_is_refused_and_the_state_kept(
        fake: FakeLog, keys: Keys, tmp_path: Path, misbehave: Any, code: str) -> None:
    keys.add_witness(AUDIT)
    witness = witness_for(fake.client(), keys, AUDIT)
    assert witness.once().status == "cosigned"
    before = state_of(keys, AUDIT).read_bytes()
    misbehave(fake, CheckpointSigner.load_or_create(tmp_path / "other.pem", create=True))
    _refused(witness.once(), code)
    assert state_of(keys, AUDIT).read_bytes() == before
    assert len(fake.posted) == 1


def test_an_unreachable_log_is_a_failure_not_a_refusal(fake: FakeLog, keys: Keys) -> None:
    keys.add_witness(AUDIT)
    witness = witness_for(fake.client(), keys, AUDIT)
    fake.down = True
    outcome = witness.once()
    assert (outcome.status, outcome.ok) == ("failed", False) and "cannot reach" in outcome.detail
    assert not state_of(keys, AUDIT).exists()


def test_interval_mode_keeps_refusing_and_keeps_the_state(fake: FakeLog, keys: Keys) -> None:
    keys.add_witness(AUDIT)
    witness = witness_for(fake.client(), keys, AUDIT)
    assert witness.once().status == "cosigned"
    before = state_of(keys, AUDIT).read_bytes()
    fake.publish(size=2)  # rolled back
    outcomes: list[Any] = []

    class Stop(Exception):
        pass

    def sleep(seconds: float) -> None:
        assert seconds == 30
        if len(outcomes) == 3:
            raise Stop

    with pytest.raises(Stop):
        witness.run(30, sleep=sleep, report=outcomes.append)
    assert [o.code for o in outcomes] == ["rollback"] * 3
    assert state_of(keys, AUDIT).read_bytes() == before
    evidence = list(state_of(keys, AUDIT).parent.glob("state.json.evidence/rollback-*.txt"))
    assert len(evidence) == 1  # the same refused note is written down once


# ---------------------------------------------------------------------------- the command line
def test_the_cli_exits_non_zero_on_a_refusal(fake: FakeLog, keys: Keys,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from api.cli import app

    real_client = httpx.Client
    monkeypatch.setattr(httpx, "Client", lambda **kw: real_client(transport=httpx.MockTransport(fake.handle), **kw))
    monkeypatch.setattr("api.logging.configure", lambda: None)  # pytest owns this process's logging
    runner = CliRunner()
    key = keys.root / "cli-witness.key"
    made = runner.invoke(app, ["audit", "witness-key", "--out", str(key), "--name", AUDIT])
    assert made.exit_code == 0, made.output
    assert made.stdout.strip() == (key.parent / "cli-witness.key.pub").read_text().strip()
    assert runner.invoke(app, ["audit", "witness-key", "--out", str(key), "--name", AUDIT]).exit_code == 2

    args = ["audit", "witness", "--log", "http://registry.test", "--key", str(key),
            "--log-key", str(keys.log_public_key), "--once"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0 and "COSIGNED" in first.stderr, first.output
    fake.publish(size=4)
    refused = runner.invoke(app, args)
    assert refused.exit_code == 1 and "REFUSED (rollback)" in refused.stderr, refused.output
    assert runner.invoke(app, [*args, "--interval", "5"]).exit_code == 2

"""Rotating the checkpoint key (``platforms audit rotate-key``, docs/AUDIT.md): every checkpoint
verifies under the key that was current when it was signed, a retired key vouches for nothing
after its rotation, an unknown key is refused, and a witness must be given the new key."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app as cli
from api_client import Api
from audit.checkpoint_store import load_checkpoints, store_checkpoint
from audit.checkpoints import LogNotIntact, sign_checkpoint
from audit.keys import parse_retired
from audit.rotation import RotationRefused, rotate_checkpoint_key
from audit.signing import CheckpointSigner
from audit.verify import VerifyReport, verify_log
from audit.witness import Witness, load_log_key, load_witness_key
from support import tamper_event
from witness_support import Keys, grow, sign, state_of, witness_for

AUDIT = "sjj.changsha.example/witness"
TOOL = Path(__file__).resolve().parents[1] / "tools" / "verify_offline.py"


def _verify(api: Api) -> VerifyReport:
    keys = api.container.settings.checkpoint_keys
    return verify_log(api.container.app, public_key_pem=keys.pinned_public_key(), retired_keys=keys.retired_keys())


def _rotate(api: Api):  # type: ignore[no-untyped-def]
    return rotate_checkpoint_key(api.container.app, api.container.settings.checkpoint_keys)


def test_after_a_key_rotation_each_checkpoint_verifies_under_the_key_current_for_it(keys: Keys, api: Api) -> None:
    c = api.container
    grow(api, 2)
    before = sign(api)
    old_id = c.checkpoint_signer().key_id()
    grow(api)
    rotation = _rotate(api)

    assert rotation.retired.key_id == old_id == rotation.last_old.key_id == before.key_id
    assert rotation.first_new.key_id != old_id
    # The old key signed the log as it stood, then the new key at once: the chain of trust has no gap.
    assert rotation.first_new.size >= rotation.last_old.size > before.size
    assert (rotation.retired.last_size, rotation.retired.last_signed_at) == (rotation.last_old.size,
                                                                              rotation.last_old.signed_at)
    assert c.checkpoint_signer().key_id() == rotation.first_new.key_id  # the running signer took up the new key
    grow(api)
    after = sign(api)
    assert after.key_id == rotation.first_new.key_id

    report = _verify(api)
    assert report.ok, report.first_failure
    assert report.checkpoints_checked == 4
    assert [cp.key_id for _, cp in load_checkpoints(c.app)] == [old_id, old_id, after.key_id, after.key_id]
    # Without the retired key the old checkpoints name a key nobody vouches for.
    keys_now = c.settings.checkpoint_keys
    alone = verify_log(c.app, public_key_pem=keys_now.pinned_public_key())
    assert [f.code for f in alone.failures] == ["key_mismatch", "key_mismatch"]


def test_a_checkpoint_signed_by_a_retired_key_after_its_rotation_is_refused(keys: Keys, api: Api) -> None:
    c = api.container
    grow(api)
    sign(api)
    leaked = c.checkpoint_signer()  # whoever kept a copy of the old key
    rotation = _rotate(api)
    grow(api)
    head = _verify(api)  # the log's true size and root, which the leaked key now signs
    assert head.ok
    store_checkpoint(c.app, leaked.sign(head.size, bytes.fromhex(head.root), datetime.now(UTC)))
    refused = _verify(api)
    assert not refused.ok
    assert refused.first_failure is not None and refused.first_failure.code == "retired_key_used"
    assert f"retired after the checkpoint of size {rotation.retired.last_size}" in refused.first_failure.reason


def test_a_checkpoint_under_a_key_neither_pinned_nor_retired_is_refused_after_a_rotation(keys: Keys,
                                                                                         api: Api) -> None:
    c = api.container
    grow(api)
    sign(api)
    _rotate(api)
    head = _verify(api)
    intruder = CheckpointSigner.load_or_create(keys.root / "intruder.pem", create=True)
    store_checkpoint(c.app, intruder.sign(head.size, bytes.fromhex(head.root), datetime.now(UTC)))
    report = _verify(api)
    assert report.first_failure is not None and report.first_failure.code == "key_mismatch"
    assert "and the retired keys" in report.first_failure.reason


def test_a_key_rotation_over_a_log_that_does_not_verify_is_refused_and_changes_nothing(keys: Keys,
                                                                                       api: Api) -> None:
    c = api.container
    grow(api, 2)
    sign(api)
    k = c.settings.checkpoint_keys
    files = {p: p.read_bytes() for p in (k.private, k.pinned)}
    tamper_event(c.app, 1)
    with pytest.raises(LogNotIntact):
        _rotate(api)
    assert {p: p.read_bytes() for p in files} == files
    assert not k.retired_path.exists() and not k.private.with_name(k.private.name + ".new").exists()


def test_a_key_rotation_refuses_a_signing_key_that_is_not_the_pinned_one(keys: Keys, api: Api) -> None:
    k = api.container.settings.checkpoint_keys
    k.pinned.write_bytes(CheckpointSigner.load_or_create(keys.root / "other.pem", create=True).public_key_pem())
    with pytest.raises(RotationRefused, match="is not the pinned key"):
        _rotate(api)


def test_a_witness_not_told_of_the_key_rotation_refuses_and_cosigns_once_given_the_new_key(keys: Keys,
                                                                                          api: Api) -> None:
    keys.add_witness(AUDIT, "市审计局")
    told_before = keys.root / "witness-office" / "checkpoint.pub"  # what the office was given at first
    told_before.parent.mkdir()
    shutil.copy(keys.log_public_key, told_before)
    key_name, key = load_witness_key(keys.witnesses[AUDIT])
    uninformed = Witness(api.client, load_log_key(told_before), key_name, key, state_of(keys, AUDIT))

    grow(api, 2)
    first = sign(api)
    assert (uninformed.once().status, json.loads(state_of(keys, AUDIT).read_text())["size"]) == ("cosigned",
                                                                                                 first.size)
    grow(api)
    rotation = _rotate(api)
    outcome = uninformed.once()
    assert (outcome.status, outcome.code) == ("refused", "bad_log_signature"), outcome
    assert json.loads(state_of(keys, AUDIT).read_text())["size"] == first.size  # the state is left as it was

    # Told: the office restarts its witness with --log-key on the new public key.
    informed = witness_for(api.client, keys, AUDIT)
    outcome = informed.once()
    assert (outcome.status, outcome.size) == ("cosigned", rotation.first_new.size), outcome
    latest = api.client.get("/api/v1/audit/checkpoint").json()
    assert latest["key_id"] == rotation.first_new.key_id
    assert [c["witness"] for c in latest["cosignatures"]] == ["市审计局"]


def test_platforms_audit_rotate_key_retires_the_key_and_verify_still_passes(cli_env: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["demo", "--if-empty"]).exit_code == 0
    assert runner.invoke(cli, ["audit", "checkpoint"]).exit_code == 0
    old_log_key = runner.invoke(cli, ["audit", "log-key"]).stdout.strip()

    r = runner.invoke(cli, ["audit", "rotate-key"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["retired_key"]["key_id"] == out["last_checkpoint_of_the_retired_key"]["key_id"]
    assert out["new_key_id"] == out["first_checkpoint_of_the_new_key"]["key_id"] != out["retired_key"]["key_id"]
    new_log_key = runner.invoke(cli, ["audit", "log-key"]).stdout.strip()
    assert new_log_key == out["log_key"] != old_log_key
    retired = parse_retired(Path(out["retired_keys"]).read_bytes())
    assert [k.key_id for k in retired] == [out["retired_key"]["key_id"]]
    assert runner.invoke(cli, ["audit", "verify"]).exit_code == 0

    # A second rotation keeps both retired keys; verify still passes.
    again = runner.invoke(cli, ["audit", "rotate-key"])
    assert again.exit_code == 0, again.output
    assert len(parse_retired(Path(out["retired_keys"]).read_bytes())) == 2
    assert runner.invoke(cli, ["audit", "verify"]).exit_code == 0

    # Without the retired keys' file the earlier checkpoints fail: the operator must keep it.
    monkeypatch.setenv("PLATFORMS_CHECKPOINT_RETIRED_KEYS", str(cli_env / "nowhere.json"))
    failed = runner.invoke(cli, ["audit", "verify"])
    assert failed.exit_code == 1 and "key mismatch" in failed.output


def test_a_signer_whose_key_is_not_pinned_refuses_without_reporting_the_log_broken(keys: Keys, api: Api) -> None:
    from audit.checkpoints import SignerNotPinned

    grow(api)
    k = api.container.settings.checkpoint_keys
    other = CheckpointSigner.load_or_create(keys.root / "other.pem", create=True)
    with pytest.raises(SignerNotPinned):
        sign_checkpoint(api.container.app, other, k)
    assert _verify(api).ok


def test_the_integrity_watch_signs_through_a_key_rotation_without_an_alarm(keys: Keys, api: Api,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import types

    import audit.rotation
    from audit.checkpoint_store import latest_checkpoint
    from audit.watch import IntegrityWatch, WatchConfig

    c = api.container
    now = [1000.0]
    watch = IntegrityWatch(c.app, WatchConfig(sign=True, every_events=1), c.checkpoint_signer, lambda: now[0],
                           keys=c.settings.checkpoint_keys)
    grow(api)
    watch.tick()
    old_id = latest_checkpoint(c.app).key_id  # type: ignore[union-attr]
    seen = []

    def in_the_window(src: Path, dst: Path) -> None:
        # The new key is pinned, the key file not yet replaced: the running signer holds the old key.
        grow(api)
        now[0] += 61
        watch.tick()
        seen.append(watch.status())
        shutil.move(src, dst)

    monkeypatch.setattr(audit.rotation, "os", types.SimpleNamespace(replace=in_the_window))
    rotation = _rotate(api)
    assert seen[0]["status"] == "intact" and seen[0]["error"] and "key mismatch" in seen[0]["error"]
    grow(api)
    now[0] += 61
    watch.tick()
    assert latest_checkpoint(c.app).key_id == rotation.first_new.key_id != old_id  # type: ignore[union-attr]
    assert watch.status()["status"] == "intact" and watch.status()["error"] is None


def test_an_export_verifies_offline_after_a_key_rotation_with_the_current_and_the_retired_key(keys: Keys,
                                                                                              api: Api) -> None:
    grow(api, 2)
    sign(api)
    rotation = _rotate(api)
    grow(api)
    sign(api)
    export = keys.root / "log.jsonl"
    r = api.client.get("/api/v1/audit/export", headers=api.headers("auditor"))
    assert r.status_code == 200
    export.write_bytes(r.content)
    retired = keys.root / "retired.pem"
    retired.write_bytes(rotation.retired.public_pem)

    def tool(*pems: Path) -> subprocess.CompletedProcess[str]:
        flags = [arg for pem in pems for arg in ("--public-key", str(pem))]
        return subprocess.run([sys.executable, str(TOOL), "export", "--export", str(export), *flags],
                              capture_output=True, text=True, timeout=120)

    current_only = tool(keys.log_public_key)
    assert current_only.returncode == 1 and f"names key {rotation.retired.key_id}" in current_only.stdout
    both = tool(keys.log_public_key, retired)
    assert both.returncode == 0 and "4 signed checkpoint(s) verified" in both.stdout, both.stdout

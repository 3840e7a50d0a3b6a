"""Runs tools/verify_offline.py as an auditor would: a separate process.

The evidence is produced by the registry's own audit package, so these tests
also show the independent re-implementation in the tool agrees with it.
"""

from __future__ import annotations

import ast
import base64
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from audit.merkle import (
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_from_leaf_hashes,
)
from audit.signing import CheckpointSigner
from support import checkpoint_keys, migrated

TOOL = Path(__file__).resolve().parents[1] / "tools" / "verify_offline.py"
HASHES = [leaf_hash(f"event-{i}".encode()) for i in range(13)]


def run_tool(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(TOOL), *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def write_json(path: Path, data) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_tool_depends_only_on_stdlib_and_cryptography():
    tree = ast.parse(TOOL.read_text(encoding="utf-8"))
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            modules.add((node.module or "").split(".")[0])
    assert modules - set(sys.stdlib_module_names) == {"cryptography"}


@pytest.fixture
def checkpoint_files(tmp_path: Path):
    signer = CheckpointSigner.load_or_create(tmp_path / "keys" / "k.pem", create=True)
    cp = signer.sign(
        len(HASHES), root_from_leaf_hashes(HASHES), datetime(2025, 11, 25, tzinfo=UTC)
    )
    pub = tmp_path / "pub.pem"
    pub.write_bytes(signer.public_key_pem())
    return cp, write_json(tmp_path / "cp.json", cp.to_dict()), pub


def test_checkpoint_ok(tmp_path, checkpoint_files):
    _, cp_file, pub = checkpoint_files
    result = run_tool("checkpoint", "--checkpoint", cp_file, "--public-key", pub, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("OK")


def test_checkpoint_tampered_size_fails(tmp_path, checkpoint_files):
    cp, _, pub = checkpoint_files
    tampered = write_json(tmp_path / "bad.json", {**cp.to_dict(), "size": cp.size + 1})
    result = run_tool("checkpoint", "--checkpoint", tampered, "--public-key", pub, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.startswith("FAILED")


def test_checkpoint_other_key_fails(tmp_path, checkpoint_files):
    _, cp_file, _ = checkpoint_files
    other = CheckpointSigner.load_or_create(tmp_path / "other.pem", create=True)
    pub = tmp_path / "other.pub.pem"
    pub.write_bytes(other.public_key_pem())
    result = run_tool("checkpoint", "--checkpoint", cp_file, "--public-key", pub, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.startswith("FAILED")


def inclusion_args(tmp_path: Path, index: int, proof: list[bytes], size: int = len(HASHES)):
    proof_file = write_json(tmp_path / "inclusion.json", [p.hex() for p in proof])
    return (
        "inclusion",
        "--leaf-hash", HASHES[index].hex(),
        "--index", str(index),
        "--size", str(size),
        "--proof", proof_file,
        "--root", root_from_leaf_hashes(HASHES).hex(),
    )  # fmt: skip


def test_inclusion_ok(tmp_path):
    result = run_tool(*inclusion_args(tmp_path, 5, inclusion_proof(5, HASHES)), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("OK")


def test_inclusion_flipped_bit_fails(tmp_path):
    proof = inclusion_proof(5, HASHES)
    proof[1] = bytes([proof[1][0] ^ 0x80]) + proof[1][1:]
    result = run_tool(*inclusion_args(tmp_path, 5, proof), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.startswith("FAILED")


def test_inclusion_index_beyond_size_fails(tmp_path):
    args = inclusion_args(tmp_path, 5, inclusion_proof(5, HASHES), size=5)
    result = run_tool(*args, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.startswith("FAILED")


def consistency_args(tmp_path: Path, old: int, proof: list[bytes], old_root: bytes):
    proof_file = write_json(tmp_path / "consistency.json", {"proof": [p.hex() for p in proof]})
    return (
        "consistency",
        "--old-size", str(old),
        "--new-size", str(len(HASHES)),
        "--old-root", old_root.hex(),
        "--new-root", root_from_leaf_hashes(HASHES).hex(),
        "--proof", proof_file,
    )  # fmt: skip


def test_consistency_ok(tmp_path):
    old_root = root_from_leaf_hashes(HASHES[:6])
    args = consistency_args(tmp_path, 6, consistency_proof(6, HASHES), old_root)
    result = run_tool(*args, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("OK")


def test_consistency_rewritten_history_fails(tmp_path):
    # The old checkpoint committed to a different sixth event.
    rewritten = HASHES[:5] + [leaf_hash(b"original event-5")]
    args = consistency_args(
        tmp_path, 6, consistency_proof(6, HASHES), root_from_leaf_hashes(rewritten)
    )
    result = run_tool(*args, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.startswith("FAILED")


def test_malformed_input_reports_failure(tmp_path):
    bad_proof = write_json(tmp_path / "p.json", ["zz"])
    result = run_tool(
        "inclusion", "--leaf-hash", "00" * 32, "--index", "0", "--size", "1",
        "--proof", bad_proof, "--root", "00" * 32, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stdout.startswith("FAILED")
    missing = run_tool(
        "checkpoint", "--checkpoint", tmp_path / "none.json", "--public-key", tmp_path / "none",
        cwd=tmp_path,
    )  # fmt: skip
    assert missing.returncode == 1
    assert missing.stdout.startswith("FAILED")


@pytest.fixture
def exported(tmp_path: Path, monkeypatch):
    """A real log exported as JSON Lines, and the signed checkpoint over it."""
    from freezegun import freeze_time

    from aggregates.application import RegistryApp
    from aggregates.programme import Driver
    from aggregates.store import StoreConfig
    from audit.checkpoints import sign_checkpoint
    from audit.history import export_jsonl

    monkeypatch.setenv("PLATFORMS_CHECKPOINT_KEY", str(tmp_path / "keys" / "cp.pem"))
    monkeypatch.delenv("PLATFORMS_CHECKPOINT_PUBKEY", raising=False)
    with freeze_time("2024-01-05T03:00:00+00:00"):
        app = RegistryApp(StoreConfig(migrated(f"sqlite:///{tmp_path / 'log.sqlite3'}")))
        Driver(app, subfield="智能芯片").to("funded")
        cp = sign_checkpoint(app, checkpoint_keys().load_signer(), checkpoint_keys())
        Driver(app, subfield="智能传感器").to("approved")  # beyond the checkpoint
    export = tmp_path / "log.jsonl"
    with export.open("w", encoding="utf-8") as fh:
        export_jsonl(app, fh)
    app.close()
    return export, write_json(tmp_path / "cp.json", cp.to_dict()), checkpoint_keys().pinned


def test_chain_of_an_export_verifies_against_the_signed_checkpoint(tmp_path, exported):
    export, cp, pub = exported
    result = run_tool("chain", "--export", export, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    result = run_tool("chain", "--export", export, "--checkpoint", cp, "--public-key", pub, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "match the signed checkpoint root" in result.stdout


def _lines(export: Path) -> list[str]:
    return export.read_text(encoding="utf-8").splitlines()


def _write(export: Path, lines: list[str]) -> None:
    export.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _at(lines: list[str], kind: str, index: int = 0) -> int:
    """The line number (0-based) of the index-th line of that kind."""
    return [i for i, line in enumerate(lines) if json.loads(line)["kind"] == kind][index]


def _rewrite(export: Path, index: int, change) -> None:
    """Rewrite the index-th event line of the export."""
    lines = _lines(export)
    at = _at(lines, "event", index)
    item = json.loads(lines[at])
    change(item)
    lines[at] = json.dumps(item, ensure_ascii=False)
    _write(export, lines)


def _flip(item) -> None:
    state = bytearray(base64.b64decode(item["state_b64"]))
    state[-3] ^= 0x01
    item["state_b64"] = base64.b64encode(bytes(state)).decode()


def test_chain_catches_one_changed_byte_and_a_dropped_row(tmp_path, exported):
    export, cp, pub = exported
    original = _lines(export)
    _rewrite(export, 0, _flip)
    result = run_tool("chain", "--export", export, cwd=tmp_path)
    assert result.returncode == 1 and result.stdout.startswith("FAILED")
    dropped = _at(original, "event", 2)
    _write(export, original[:dropped] + original[dropped + 1:])
    result = run_tool("chain", "--export", export, "--checkpoint", cp, "--public-key", pub, cwd=tmp_path)
    assert result.returncode == 1 and result.stdout.startswith("FAILED")


def test_chain_with_a_malformed_prev_hash_fails_cleanly(tmp_path, exported):
    export, *_ = exported

    def drop_key(item):
        state = base64.b64decode(item["state_b64"]).replace(b'"prev_hash":', b'"prev_hasx":')
        item["state_b64"] = base64.b64encode(state).decode()

    _rewrite(export, 1, drop_key)
    result = run_tool("chain", "--export", export, cwd=tmp_path)
    assert result.returncode == 1 and "no well-formed prev_hash" in result.stdout


def run_export(export: Path, pub: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return run_tool("export", "--export", export, "--public-key", pub, cwd=tmp_path)


def test_export_verifies_end_to_end(tmp_path, exported):
    export, _, pub = exported
    result = run_export(export, pub, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 signed checkpoint(s) verified and matched" in result.stdout
    assert "not yet attested" in result.stdout  # the second platform came after the checkpoint


def test_export_names_the_row_whose_bytes_changed(tmp_path, exported):
    export, _, pub = exported
    _rewrite(export, 0, _flip)
    first = json.loads(_lines(export)[_at(_lines(export), "event", 0)])
    result = run_export(export, pub, tmp_path)
    assert result.returncode == 1 and result.stdout.startswith("FAILED")
    assert f"of the event before it at position {first['position']}" in result.stdout
    assert "Merkle root" in result.stdout


def test_a_cut_download_lacks_the_trailer(tmp_path, exported):
    export, _, pub = exported
    lines = _lines(export)
    for cut in (lines[:-1], lines[:-4]):
        _write(export, cut)
        result = run_export(export, pub, tmp_path)
        assert result.returncode == 1 and "truncated: no trailer line" in result.stdout, result.stdout
    _write(export, lines + [lines[-2]])
    result = run_export(export, pub, tmp_path)
    assert result.returncode == 1 and "after the trailer" in result.stdout


def test_export_checkpoints_are_judged_by_the_given_key_only(tmp_path, exported):
    export, _, pub = exported
    other = CheckpointSigner.load_or_create(tmp_path / "other.pem", create=True)
    other_pub = tmp_path / "other.pub.pem"
    other_pub.write_bytes(other.public_key_pem())
    result = run_export(export, other_pub, tmp_path)
    assert result.returncode == 1 and "the given key is" in result.stdout
    lines = _lines(export)
    at = _at(lines, "checkpoint")
    forged = {**json.loads(lines[at]), "size": json.loads(lines[at])["size"] - 1}
    _write(export, lines[:at] + [json.dumps(forged)] + lines[at + 1:])
    result = run_export(export, pub, tmp_path)
    assert result.returncode == 1 and "signature does not match" in result.stdout
    _write(export, lines[:at] + lines[at + 1:])
    result = run_export(export, pub, tmp_path)
    assert result.returncode == 1 and "announced 1 checkpoints, 0 verified" in result.stdout
    assert "nothing in it is attested" in result.stdout

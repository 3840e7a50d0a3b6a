"""Tests for audit.signing: Ed25519 signed checkpoints and key custody."""

from __future__ import annotations

import base64
import dataclasses
import logging
import os
import stat
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.signing import (
    DEFAULT_KEY_NAME,
    CheckpointSigner,
    SignedCheckpoint,
    verify_checkpoint,
)

ROOT = bytes.fromhex("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")
WHEN = datetime(2025, 11, 25, 23, 41, 7, 123456, tzinfo=timezone(timedelta(hours=8)))


@pytest.fixture
def key_path(tmp_path: Path) -> Path:
    return tmp_path / "keys" / "checkpoint-ed25519.pem"


@pytest.fixture
def signer(key_path: Path) -> CheckpointSigner:
    return CheckpointSigner.load_or_create(key_path, create=True)


@pytest.fixture
def cp(signer: CheckpointSigner) -> SignedCheckpoint:
    return signer.sign(8, ROOT, WHEN)


def test_sign_verify_roundtrip(signer, cp):
    assert cp.size == 8
    assert cp.root_hex == ROOT.hex()
    assert cp.signed_at == "2025-11-25T15:41:07+00:00"
    assert cp.key_id == signer.key_id()
    assert verify_checkpoint(cp, signer.public_key_pem())
    restored = SignedCheckpoint.from_dict(cp.to_dict())
    assert restored == cp
    assert verify_checkpoint(restored, signer.public_key_pem())


def test_message_is_the_documented_canonical_text(signer, cp):
    assert cp.message() == (
        b"platform-registry checkpoint v1\n"
        b"8\n"
        b"XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n"
        b"2025-11-25T15:41:07+00:00\n"
    )
    # Anyone can check the signature with plain Ed25519 over those bytes.
    pub = serialization.load_pem_public_key(signer.public_key_pem())
    assert isinstance(pub, Ed25519PublicKey)
    pub.verify(base64.b64decode(cp.signature_b64), cp.message())


def test_key_id_is_prefix_of_sha256_of_raw_public_key(signer):
    import hashlib

    pub = serialization.load_pem_public_key(signer.public_key_pem())
    raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert signer.key_id() == hashlib.sha256(raw).digest()[:8].hex()
    assert len(signer.key_id()) == 16


@pytest.mark.parametrize(
    "changes",
    [
        {"size": 9},
        {"size": 7},
        {"size": 0},
        {"root_hex": ROOT[:-1].hex() + "29"},
        {"root_hex": "00" * 32},
        {"root_hex": ROOT.hex().upper()},
        {"root_hex": ROOT.hex()[:-2]},
        {"root_hex": "zz" * 32},
        {"signed_at": "2025-11-25T15:41:08+00:00"},
        {"signed_at": "2025-11-25T23:41:07+08:00"},
        {"signed_at": "2025-11-25T15:41:07+00:00\nextra"},
        {"key_id": "00" * 8},
        {"signature_b64": "not base64!"},
        {"signature_b64": ""},
        {"signature_b64": base64.b64encode(b"\x00" * 64).decode()},
        {"signature_b64": base64.b64encode(b"\x00" * 63).decode()},
        {"size": -1},
        {"size": "8"},
        {"size": True},
        {"root_hex": None},
        {"signed_at": None},
        {"signature_b64": None},
        {"signature_b64": "\u00e9" * 88},
    ],
)
def test_tampered_or_malformed_fields_fail(signer, cp, changes):
    assert verify_checkpoint(dataclasses.replace(cp, **changes), signer.public_key_pem()) is False


def test_flipped_signature_bit_fails(signer, cp):
    sig = bytearray(base64.b64decode(cp.signature_b64))
    sig[10] ^= 0x01
    bad = dataclasses.replace(cp, signature_b64=base64.b64encode(bytes(sig)).decode())
    assert not verify_checkpoint(bad, signer.public_key_pem())


def test_other_key_fails(tmp_path, cp):
    other = CheckpointSigner.load_or_create(tmp_path / "other.pem", create=True)
    assert other.key_id() != cp.key_id
    assert not verify_checkpoint(cp, other.public_key_pem())
    # Even with the key_id relabelled, the signature does not verify.
    relabelled = dataclasses.replace(cp, key_id=other.key_id())
    assert not verify_checkpoint(relabelled, other.public_key_pem())


@pytest.mark.parametrize(
    "pem",
    [
        b"",
        b"garbage",
        b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
        generate_private_key(SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
        "not bytes",
        None,
    ],
)
def test_bad_public_key_fails_without_raising(cp, pem):
    assert verify_checkpoint(cp, pem) is False


def test_key_file_created_with_mode_0600(signer, key_path):
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert key_path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")


def test_key_file_mode_does_not_depend_on_umask(tmp_path):
    old = os.umask(0)
    try:
        CheckpointSigner.load_or_create(tmp_path / "k.pem", create=True)
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "k.pem").stat().st_mode) == 0o600


def test_reload_gives_same_key(signer, key_path, cp):
    again = CheckpointSigner.load_or_create(key_path, create=False)
    assert again.key_id() == signer.key_id()
    assert again.public_key_pem() == signer.public_key_pem()
    assert again.sign(8, ROOT, WHEN) == cp  # Ed25519 is deterministic


def test_missing_key_without_create_raises(tmp_path):
    with pytest.raises(FileNotFoundError):
        CheckpointSigner.load_or_create(tmp_path / "absent.pem", create=False)
    assert not (tmp_path / "absent.pem").exists()


def test_non_ed25519_key_file_rejected(tmp_path):
    path = tmp_path / "ec.pem"
    path.write_bytes(
        generate_private_key(SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)
    with pytest.raises(ValueError):
        CheckpointSigner.load_or_create(path, create=False)


def test_readable_key_file_warns(signer, key_path, caplog):
    key_path.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="audit.signing"):
        again = CheckpointSigner.load_or_create(key_path, create=False)
    assert again.key_id() == signer.key_id()
    assert any("0600" in r.getMessage() for r in caplog.records)


def test_sign_rejects_bad_input(signer):
    with pytest.raises(ValueError):
        signer.sign(1, ROOT, datetime(2025, 1, 1))  # naive time
    with pytest.raises(ValueError):
        signer.sign(1, ROOT[:31], WHEN)
    with pytest.raises(ValueError):
        signer.sign(-1, ROOT, WHEN)


def test_from_dict_rejects_malformed():
    good = {"size": 1, "root": "00" * 32, "signed_at": "x", "key_id": "k", "signature": "s"}
    assert SignedCheckpoint.from_dict(good).size == 1
    for broken in (
        {k: v for k, v in good.items() if k != "root"},
        {**good, "size": "1"},
        {**good, "size": True},
        {**good, "signature": 5},
        [],
    ):
        with pytest.raises(ValueError):
            SignedCheckpoint.from_dict(broken)


def test_key_paths_from_the_settings(tmp_path):
    """Default under PLATFORMS_VAR_DIR (./var when unset), the public key pinned beside it;
    PLATFORMS_CHECKPOINT_KEY and PLATFORMS_CHECKPOINT_PUBKEY win."""
    from api.settings import Settings

    keys = Settings.from_env(env={}).checkpoint_keys
    assert keys.private == Path("var") / DEFAULT_KEY_NAME == Path("var/keys/checkpoint-ed25519.pem")
    assert keys.pinned == Path("var/keys/checkpoint-ed25519.pub")
    env = {"PLATFORMS_VAR_DIR": str(tmp_path / "state")}
    assert Settings.from_env(env=env).checkpoint_keys.private == tmp_path / "state" / "keys" / "checkpoint-ed25519.pem"
    env["PLATFORMS_CHECKPOINT_KEY"] = str(tmp_path / "k.pem")
    assert Settings.from_env(env=env).checkpoint_keys.pinned == tmp_path / "k.pub"
    env["PLATFORMS_CHECKPOINT_PUBKEY"] = str(tmp_path / "auditors.pub")
    keys = Settings.from_env(env=env).checkpoint_keys
    assert (keys.private, keys.pinned) == (tmp_path / "k.pem", tmp_path / "auditors.pub")

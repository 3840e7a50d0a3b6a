"""audit.note against published vectors (golang.org/x/mod/sumdb/note's tests, transparency-dev's,
the C2SP specs' examples) and against an independent implementation of the specs written here
from their text (hashlib + raw Ed25519 only)."""

from __future__ import annotations

import base64
import hashlib
import struct
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from audit import note
from audit.signing import CheckpointSigner

# golang.org/x/mod/sumdb/note, note_test.go (TestSign, TestOpen).
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
PETER_SIG = ("— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBw"
             "JnAM=\n")
ENOCH_SIG = ("— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+"
             "QQ=\n")
ROOT = bytes.fromhex("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")


def test_signing_reproduces_the_go_reference_note_byte_for_byte() -> None:
    name, alg, key = note.parse_signer_key(PETER_SKEY)
    assert (name, alg) == ("PeterNeumann", note.ALG_ED25519)
    signed = note.format_note(TEXT, [note.sign_ed25519(TEXT, name, key)])
    assert signed == TEXT + "\n" + PETER_SIG
    assert note.VerifierKey.ed25519(name, key.public_key()).encode() == PETER_VKEY


def test_open_follows_the_reference_rules() -> None:
    peter, enoch = note.VerifierKey.parse(PETER_VKEY), note.VerifierKey.parse(ENOCH_VKEY)
    signed = TEXT + "\n" + PETER_SIG + ENOCH_SIG
    text, verified = note.open_note(signed, [peter])  # Enoch's key unknown: ignored
    assert text == TEXT and [s.name for s in verified] == ["PeterNeumann"]
    assert [s.name for s in note.open_note(signed, [peter, enoch])[1]] == ["PeterNeumann", "EnochRoot"]
    with pytest.raises(note.NoteError, match="no signature by a known key"):
        note.open_note(signed, [])
    broken = TEXT + "\n" + PETER_SIG[:60] + "ABCD" + PETER_SIG[60:]
    with pytest.raises(note.NoteError, match="invalid signature for key PeterNeumann\\+c74f20a3"):
        note.open_note(broken, [peter])
    with pytest.raises(note.NoteError):
        note.open_note(TEXT + "\n" + PETER_SIG * 101, [peter])
    for bad in [TEXT, TEXT + "\n", TEXT + "\n" + PETER_SIG[:-1], "\x01" + TEXT + "\n" + PETER_SIG,
                TEXT + "\n" + "— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngo"
                "tpRZb6KE6RyyBwJnAM=\n", TEXT + "\n" + PETER_SIG + "Unexpected line.\n"]:
        with pytest.raises(note.NoteError):
            note.open_note(bad, [peter])
    with pytest.raises(note.NoteError):
        note.open_note(b"\xff" + (TEXT + "\n" + PETER_SIG).encode(), [peter])


def test_verifier_keys_of_published_witnesses_parse() -> None:
    # transparency-dev/formats note_cosigv1_test.go (TestCoSigV1NewVerifier)
    remora = note.VerifierKey.parse("remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2")
    assert (remora.name, remora.alg, remora.key_id) == ("remora.n621.de", note.ALG_COSIGNATURE_V1, 0xda77ade7)
    assert note.VerifierKey.parse("TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6").alg == note.ALG_ED25519
    for bad in ["rekor.sigstore.dev+00000000+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6",  # wrong key ID
                "bananas.sigstore.dev+12344556", "rekor.sigstore.dev+12345678+AwEB",
                "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"]:  # unknown type
        with pytest.raises(note.NoteError):
            note.VerifierKey.parse(bad)


def test_cosignature_timestamps_of_published_examples() -> None:
    # c2sp.org/tlog-cosignature's example line, dated "time 1679315147" in its signed message.
    spec = note.parse_signature_line("— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEh"
                                     "ZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==")
    assert (spec.key_id, note.cosignature_timestamp(spec)) == (0x8d66cf3f, 1679315147)
    # transparency-dev/formats TestCoSigV1Timestamp
    sig = note.NoteSignature("w", 0, base64.b64decode(
        "ZGhGuQAAAABm/qTPeyKXD+R2rzyQsxPiP8mXum7qq/iF0u4vanlqJyocWODBt97w9uL+8qT7S5gxEHWWOworDcFiEBYJXORmnFBOBA==")[4:])
    assert note.cosignature_timestamp(sig) == 1727964367


@pytest.mark.parametrize("text", [
    "example.com/log\n01\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",   # leading zero
    "example.com/log\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyh=\n",     # non-canonical base64
    "example.com/log\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQw==\n",     # 31 bytes
    "example.com/log\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n\n",   # empty extension line
    "example.com/log\n8\n",                                                    # no root
    "\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",                     # no origin
    "example.com/log\n-8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",
    "example.com/log\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=",       # no final newline
])
def test_malformed_checkpoint_texts_are_refused(text: str) -> None:
    with pytest.raises(note.NoteError):
        note.parse_checkpoint(text)


def test_checkpoint_text_round_trip() -> None:
    text = note.checkpoint_text("example.com/log", 8, ROOT)
    assert text == "example.com/log\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n"
    assert note.parse_checkpoint(text) == note.Checkpoint("example.com/log", 8, ROOT)
    with pytest.raises(note.NoteError):
        note.checkpoint_text("has space", 8, ROOT)
    with pytest.raises(note.NoteError):
        note.checkpoint_text("a+b", 8, ROOT)


# ---------------------------------------------------------------------- independent implementation
def _spec_key_id(name: str, alg: int, public: bytes) -> bytes:
    """signed-note: key ID = SHA-256(key name || 0x0A || signature type || public key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([alg]) + public).digest()[:4]


def _spec_split(signed: str) -> tuple[str, list[tuple[str, bytes]]]:
    """signed-note: the text ends at the last blank line; each following line is
    '— name base64'."""
    cut = signed.rindex("\n\n")
    lines = signed[cut + 2:].rstrip("\n").split("\n")
    out = []
    for line in lines:
        assert line.startswith("\u2014 ")
        name, b64 = line[2:].split(" ")
        out.append((name, base64.b64decode(b64, validate=True)))
    return signed[:cut + 1], out


def test_a_checkpoint_note_signed_here_verifies_under_the_spec(tmp_path) -> None:
    signer = CheckpointSigner.load_or_create(tmp_path / "cp.pem", create=True)
    origin = "kjj.changsha.gov.cn/platform-registry"
    sig = signer.sign_note(origin, 8, ROOT)
    signed = note.format_note(note.checkpoint_text(origin, 8, ROOT), [sig])
    public = serialization.load_pem_public_key(signer.public_key_pem())
    assert isinstance(public, Ed25519PublicKey)
    raw_public = public.public_bytes_raw()

    text, sigs = _spec_split(signed)
    # tlog-checkpoint: origin, decimal size, base64 of the 32-byte root, each line ending in LF.
    assert text == f"{origin}\n8\n{base64.b64encode(ROOT).decode()}\n"
    assert [name for name, _ in sigs] == [origin]  # the log's key name matches the origin line
    blob = sigs[0][1]
    assert blob[:4] == _spec_key_id(origin, 0x01, raw_public)
    public.verify(blob[4:], text.encode())  # raises if invalid
    encoded = base64.b64encode(bytes([0x01]) + raw_public).decode()
    assert note.VerifierKey.ed25519(origin, public).encode() == f"{origin}+{blob[:4].hex()}+{encoded}"


def test_cosignatures_agree_with_the_spec_both_ways() -> None:
    text = note.checkpoint_text("example.com/log", 8, ROOT)
    witness = Ed25519PrivateKey.generate()
    raw_public = witness.public_key().public_bytes_raw()
    when = int(datetime(2026, 3, 1, tzinfo=UTC).timestamp())

    # Ours, checked by the spec's recipe: key ID with type 0x04; u64 big-endian time || Ed25519
    # over "cosignature/v1\ntime <t>\n" || the checkpoint text.
    ours = note.cosign(text, "sjj.example/witness", witness, when)
    blob = base64.b64decode(ours.line().split(" ")[2])
    assert blob[:4] == _spec_key_id("sjj.example/witness", 0x04, raw_public)
    assert struct.unpack(">Q", blob[4:12])[0] == when
    witness.public_key().verify(blob[12:], f"cosignature/v1\ntime {when}\n".encode() + text.encode())

    # The spec's recipe, checked by ours.
    message = f"cosignature/v1\ntime {when + 1}\n{text}".encode()
    theirs = _spec_key_id("sjj.example/witness", 0x04, raw_public) + struct.pack(">Q", when + 1) + witness.sign(message)
    line = f"— sjj.example/witness {base64.b64encode(theirs).decode()}"
    key = note.VerifierKey.ed25519("sjj.example/witness", witness.public_key(), note.ALG_COSIGNATURE_V1)
    assert key.verify(text, note.parse_signature_line(line))
    assert not key.verify(text.replace("\n8\n", "\n9\n"), note.parse_signature_line(line))
    # A cosignature is not a plain note signature, even by the same key and name.
    plain = note.VerifierKey.ed25519("sjj.example/witness", witness.public_key())
    assert not plain.verify(text, note.parse_signature_line(line))


def test_signer_keys_round_trip_and_refuse_a_wrong_key_id() -> None:
    key = Ed25519PrivateKey.generate()
    skey = note.encode_signer_key("sjj.example/witness", note.ALG_COSIGNATURE_V1, key)
    name, alg, parsed = note.parse_signer_key(skey)
    assert (name, alg, parsed.private_bytes_raw()) == ("sjj.example/witness", 4, key.private_bytes_raw())
    forged = skey.split("+")
    forged[3] = "00000000"
    with pytest.raises(note.NoteError, match="does not match"):
        note.parse_signer_key("+".join(forged))


def test_the_example_in_docs_audit_md() -> None:
    log = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"platform-registry example log key").digest())
    wit = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"platform-registry example witness key").digest())
    origin, witness = "kjj.changsha.gov.cn/platform-registry", "sjj.changsha.example/witness"
    text = note.checkpoint_text(origin, 8, ROOT)
    signed = note.format_note(text, [note.sign_ed25519(text, origin, log), note.cosign(text, witness, wit, 1764085267)])
    assert signed == (
        "kjj.changsha.gov.cn/platform-registry\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n\n"
        "— kjj.changsha.gov.cn/platform-registry 3TP3gGvRF8n7TwHps/qu0FH7EYd66F067okRoQ52z1Z8O6/LrD7alhCioxPaM9urgCo6"
        "jvkcI0W6B14AX9bBmXhEqQM=\n"
        "— sjj.changsha.example/witness GJ4XiAAAAABpJc4T0PXCAUYjH/+I88o/Z3j2AweOHh8Jlf0bzRPQsBWXV8JdBG2d8x8Dup/F6XIjZi"
        "XHpFXKPPdCQlntX38BHXVTDA==\n")
    assert note.VerifierKey.ed25519(origin, log.public_key()).encode() == (
        "kjj.changsha.gov.cn/platform-registry+dd33f780+AfOj11KihPVJVItssk/ElL1+QWR48uGCgpdAesTUky4K")
    assert note.VerifierKey.ed25519(witness, wit.public_key(), note.ALG_COSIGNATURE_V1).encode() == (
        "sjj.changsha.example/witness+189e1788+BO7WhQzokFMqQwiTji6fl2rmU7gZ4U09wW8bZ3LPFZdU")
    docs = (Path(__file__).parents[1] / "docs" / "AUDIT.md").read_text(encoding="utf-8")
    for line in signed.splitlines()[4:]:
        assert line in docs

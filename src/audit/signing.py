"""Signed checkpoints: an Ed25519 signature over (tree size, Merkle root, time).

Why: a Merkle root only proves something if the registry cannot quietly
swap it later.  Signing each checkpoint with a key held outside the event
store means a published checkpoint binds the operator to exactly that log
prefix: any later alteration of a stored event changes the root, and the old
signature (held by auditors) no longer matches.  Ed25519 is deterministic,
has no parameters to get wrong, and is verifiable with any standard library.

Signed message (verify it offline with any Ed25519 implementation)
------------------------------------------------------------------
The signature covers exactly these UTF-8 bytes, four lines each terminated by
a single ``\\n`` (LF), no other whitespace, modelled on a C2SP signed-note
body::

    platform-registry checkpoint v1
    <size>
    <root_base64>
    <signed_at>

* ``<size>``: number of events in the log, base-10, no sign, no leading zeros.
* ``<root_base64>``: the 32-byte RFC 9162 Merkle tree root in standard base64
  with padding (RFC 4648 section 4), i.e. 44 characters.
* ``<signed_at>``: the signing instant in UTC, ISO 8601 with whole seconds and
  an explicit ``+00:00`` offset, e.g. ``2025-11-25T15:41:07+00:00``.

Example for size 8::

    b"platform-registry checkpoint v1\\n8\\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\\n2025-11-25T15:41:07+00:00\\n"

The JSON form of a checkpoint (:meth:`SignedCheckpoint.to_dict`) is
``{"size", "root" (hex), "signed_at", "key_id", "signature" (base64 of the
64-byte Ed25519 signature)}``.  ``key_id`` is not signed; it only names the
key (first 8 bytes of SHA-256 over the raw 32-byte public key, hex) and the
verifier checks that it matches the key it was given.

Key custody: the PKCS#8 PEM private key lives in its own file outside the
event store (``PLATFORMS_CHECKPOINT_KEY``, default ``keys/checkpoint-ed25519.pem`` under
``PLATFORMS_VAR_DIR``), created with mode 0600, so that whoever can write events cannot also
re-sign history.

The same key also signs the tree head as a C2SP ``tlog-checkpoint`` signed note
(:meth:`CheckpointSigner.sign_note`, formats in :mod:`audit.note`), under the key
name = the log's origin (``PLATFORMS_LOG_ORIGIN``), so that standard
transparency-log verifiers and witnesses can check and cosign it.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from . import note

__all__ = [
    "CHECKPOINT_HEADER",
    "DEFAULT_KEY_NAME",
    "DEFAULT_ORIGIN",
    "CheckpointSigner",
    "SignedCheckpoint",
    "format_signed_at",
    "key_id_of",
    "check_origin",
    "verify_checkpoint",
]

log = logging.getLogger(__name__)

CHECKPOINT_HEADER = "platform-registry checkpoint v1"
DEFAULT_KEY_NAME = Path("keys/checkpoint-ed25519.pem")  # under PLATFORMS_VAR_DIR
# The registry's operator, 长沙市科学技术局 (kjj.changsha.gov.cn), and this log: a schema-less URL as
# c2sp.org/tlog-checkpoint recommends; it need not be reachable. Set PLATFORMS_LOG_ORIGIN to the
# deployment's own name before the first checkpoint: witnesses pin it.
DEFAULT_ORIGIN = "kjj.changsha.gov.cn/platform-registry"

_ROOT_SIZE = 32
_SIGNATURE_SIZE = 64
_LOWER_HEX = frozenset("0123456789abcdef")


def check_origin(origin: str) -> str:
    """``origin`` if the note format allows it as the log's origin line and key name (non-empty,
    no spaces, no ``+``); raises ``ValueError`` naming ``PLATFORMS_LOG_ORIGIN`` otherwise."""
    if not note.valid_name(origin):
        raise ValueError(f"PLATFORMS_LOG_ORIGIN={origin!r} is not a valid origin: non-empty, without spaces or '+'")
    return origin


def key_id_of(public_key: Ed25519PublicKey) -> str:
    """Short key name: hex of the first 8 bytes of SHA-256(raw public key)."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).digest()[:8].hex()


def format_signed_at(when: datetime) -> str:
    """Canonical signing time: UTC, whole seconds, explicit ``+00:00`` offset.

    Naive datetimes are refused: guessing a zone for a legal timestamp
    would make the signed statement ambiguous.
    """
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError("signed_at must be timezone-aware")
    return when.astimezone(UTC).replace(microsecond=0).isoformat()


@dataclass(frozen=True)
class SignedCheckpoint:
    """A checkpoint and its signature, exactly as stored and published.

    Fields are kept in their textual wire form (hex root, canonical time
    string, base64 signature) so that what is verified is byte-for-byte what
    was signed, with no re-formatting in between.  Values are not validated
    on construction: a checkpoint received from outside may be malformed,
    and :func:`verify_checkpoint` is where that is decided.
    """

    size: int
    root_hex: str
    signed_at: str
    key_id: str
    signature_b64: str

    def message(self) -> bytes:
        """The exact bytes that are signed (see the module docstring).

        Raises ``ValueError`` if a field cannot be rendered canonically.
        """
        if not isinstance(self.size, int) or isinstance(self.size, bool) or self.size < 0:
            raise ValueError("size must be a non-negative integer")
        if (
            not isinstance(self.root_hex, str)
            or len(self.root_hex) != 2 * _ROOT_SIZE
            or not set(self.root_hex) <= _LOWER_HEX
        ):
            raise ValueError("root must be 64 lowercase hex characters")
        root = bytes.fromhex(self.root_hex)
        if not isinstance(self.signed_at, str) or not self.signed_at or "\n" in self.signed_at:
            raise ValueError("signed_at must be a single-line string")
        root_b64 = base64.b64encode(root).decode("ascii")
        text = f"{CHECKPOINT_HEADER}\n{self.size}\n{root_b64}\n{self.signed_at}\n"
        return text.encode("utf-8")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, as published to auditors."""
        return {
            "size": self.size,
            "root": self.root_hex,
            "signed_at": self.signed_at,
            "key_id": self.key_id,
            "signature": self.signature_b64,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SignedCheckpoint:
        """Inverse of :meth:`to_dict`; raises ``ValueError`` on missing or mistyped fields."""
        try:
            size, root, signed_at = data["size"], data["root"], data["signed_at"]
            key_id, signature = data["key_id"], data["signature"]
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not a checkpoint: {exc!r}") from exc
        if not isinstance(size, int) or isinstance(size, bool):
            raise ValueError("size must be an integer")
        if not all(isinstance(v, str) for v in (root, signed_at, key_id, signature)):
            raise ValueError("root, signed_at, key_id and signature must be strings")
        return cls(size, root, signed_at, key_id, signature)


class CheckpointSigner:
    """Holds the registry's Ed25519 checkpoint key and signs tree heads."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._private_key = private_key
        self._public_key = private_key.public_key()

    @classmethod
    def load_or_create(cls, path: Path, create: bool) -> CheckpointSigner:
        """Load the PKCS#8 PEM key at ``path``, or create it when ``create`` is true.

        Creation is explicit because silently minting a new key when the old
        one is missing would orphan every checkpoint signed so far.  The file
        is created exclusively with mode 0600; a key that group or others can
        read is still loaded (refusing would stop the registry) but logged
        as a warning for operators to fix.
        """
        path = Path(path)
        if path.exists():
            mode = stat.S_IMODE(path.stat().st_mode)
            if mode & 0o077:
                log.warning(
                    "checkpoint signing key %s has permissions %o; it should be 0600",
                    path,
                    mode,
                )
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if not isinstance(key, Ed25519PrivateKey):
                raise ValueError(f"{path} does not hold an Ed25519 private key")
            return cls(key)
        if not create:
            raise FileNotFoundError(f"checkpoint signing key not found: {path}")
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.fchmod(fd, 0o600)  # independent of the process umask
            os.write(fd, pem)
            os.fsync(fd)
        finally:
            os.close(fd)
        log.info("created checkpoint signing key %s (key_id %s)", path, key_id_of(key.public_key()))
        return cls(key)

    def public_key_pem(self) -> bytes:
        """SubjectPublicKeyInfo PEM of the public key, to hand to auditors."""
        return self._public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def key_id(self) -> str:
        """Hex of the first 8 bytes of SHA-256 over the raw public key."""
        return key_id_of(self._public_key)

    def sign_note(self, origin: str, size: int, root: bytes) -> note.NoteSignature:
        """The C2SP note signature (Ed25519, type 0x01, key name ``origin``) of the checkpoint
        text ``origin / size / base64(root)``."""
        return note.sign_ed25519(note.checkpoint_text(origin, size, root), origin, self._private_key)

    def sign(self, size: int, root: bytes, signed_at: datetime) -> SignedCheckpoint:
        """Sign the tree head (``size``, ``root``) as of ``signed_at`` (timezone-aware)."""
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise ValueError("size must be a non-negative integer")
        if len(root) != _ROOT_SIZE:
            raise ValueError(f"root must be {_ROOT_SIZE} bytes")
        unsigned = SignedCheckpoint(
            size=size,
            root_hex=bytes(root).hex(),
            signed_at=format_signed_at(signed_at),
            key_id=self.key_id(),
            signature_b64="",
        )
        signature = self._private_key.sign(unsigned.message())
        return SignedCheckpoint(
            size=unsigned.size,
            root_hex=unsigned.root_hex,
            signed_at=unsigned.signed_at,
            key_id=unsigned.key_id,
            signature_b64=base64.b64encode(signature).decode("ascii"),
        )


def verify_checkpoint(cp: SignedCheckpoint, public_key_pem: bytes) -> bool:
    """True iff ``cp`` carries a valid signature by the Ed25519 key in ``public_key_pem``.

    Returns False, never raises, on any bad input: an unparsable or
    non-Ed25519 key, a ``key_id`` naming a different key, a malformed field,
    bad base64, or a signature that does not cover these exact values.
    """
    try:
        public_key = serialization.load_pem_public_key(public_key_pem)
        if not isinstance(public_key, Ed25519PublicKey):
            return False
        if cp.key_id != key_id_of(public_key):
            return False
        if not isinstance(cp.signature_b64, str):
            return False
        signature = base64.b64decode(cp.signature_b64.encode("ascii"), validate=True)
        if len(signature) != _SIGNATURE_SIZE:
            return False
        public_key.verify(signature, cp.message())
    except (InvalidSignature, UnsupportedAlgorithm, ValueError, TypeError, AttributeError):
        return False
    return True

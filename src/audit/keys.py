"""Where the checkpoint keys live: the private key for signing, the *pinned* public key for
verifying, the *retired* public keys of earlier rotations, and the log's origin, the name both
sign under.

The private key is a file outside the event store (``PLATFORMS_CHECKPOINT_KEY``, default
``keys/checkpoint-ed25519.pem`` under ``PLATFORMS_VAR_DIR``). Verifying a checkpoint with
"whatever key is in that file now" would prove nothing if someone replaced the file, so the
verifier checks against a pinned public key: ``PLATFORMS_CHECKPOINT_PUBKEY`` (a PEM file the
operator or the auditors keep), or by default ``<private key>.pub``, written once when the key is
first created and rewritten only by a rotation (:mod:`audit.rotation`).

A rotation keeps the key it replaces as a *retired* key (``PLATFORMS_CHECKPOINT_RETIRED_KEYS``,
default ``<pinned key>`` with ``.retired.json``): its public key with the size and signing time of
the last checkpoint it signed. The verifier accepts a checkpoint under a retired key only within
those bounds, so a retired key (perhaps retired because it leaked) vouches for nothing signed
after its retirement. The settings (:attr:`api.settings.Settings.checkpoint_keys`) say where
they are.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from .signing import DEFAULT_ORIGIN, CheckpointSigner, SignedCheckpoint, key_id_of

__all__ = ["RETIRED_FORMAT", "CheckpointKeys", "RetiredKey", "parse_retired", "retired_file", "write_atomically"]

RETIRED_FORMAT = "platform-registry retired checkpoint keys v1"


@dataclass(frozen=True)
class RetiredKey:
    """A checkpoint key no longer used: its public key and the last checkpoint it signed."""

    public_pem: bytes
    key_id: str
    last_size: int
    last_signed_at: str

    def covers(self, cp: SignedCheckpoint) -> bool:
        """Whether ``cp`` lies within what this key signed before it was retired (its size and
        signing time at most those of the key's last checkpoint)."""
        try:
            return (cp.size <= self.last_size
                    and datetime.fromisoformat(cp.signed_at) <= datetime.fromisoformat(self.last_signed_at))
        except (TypeError, ValueError):
            return False

    def to_dict(self) -> dict[str, object]:
        return {"key_id": self.key_id, "public_key": self.public_pem.decode("ascii"),
                "last_size": self.last_size, "last_signed_at": self.last_signed_at}


def parse_retired(raw: bytes) -> tuple[RetiredKey, ...]:
    """The retired keys of a retired-keys file; ``ValueError`` naming what is wrong."""
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"not JSON: {exc}") from None
    if not isinstance(doc, dict) or doc.get("format") != RETIRED_FORMAT or not isinstance(doc.get("retired"), list):
        raise ValueError(f"not a retired-keys file (format {RETIRED_FORMAT!r} with a list 'retired')")
    found = []
    for i, item in enumerate(doc["retired"], start=1):
        try:
            pem = str(item["public_key"]).encode("ascii")
            public = load_pem_public_key(pem)
            if not isinstance(public, Ed25519PublicKey):
                raise ValueError("not an Ed25519 public key")
            key_id, size, signed_at = item["key_id"], item["last_size"], item["last_signed_at"]
            if key_id != key_id_of(public):
                raise ValueError(f"key_id {key_id!r} is not the key's ({key_id_of(public)})")
            if type(size) is not int or size < 0 or not isinstance(signed_at, str):
                raise ValueError("last_size must be a whole number and last_signed_at a time")
            datetime.fromisoformat(signed_at)
        except (KeyError, TypeError, ValueError, UnicodeError) as exc:
            raise ValueError(f"retired key {i}: {exc}") from None
        found.append(RetiredKey(pem, key_id, size, signed_at))
    return tuple(found)


def write_atomically(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Replace ``path`` with ``data`` so that a reader sees the old file or the new one, never half."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.fchmod(fd, mode)
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def retired_file(keys: tuple[RetiredKey, ...]) -> bytes:
    """The retired keys' file holding ``keys``, oldest first."""
    doc = {"format": RETIRED_FORMAT, "retired": [k.to_dict() for k in keys]}
    return (json.dumps(doc, indent=2) + "\n").encode("ascii")


@dataclass(frozen=True)
class CheckpointKeys:
    """The signing key's file, the pinned public key's file, the retired keys' file, and the
    log's origin line (``PLATFORMS_LOG_ORIGIN``: the key name of its signed notes, which
    witnesses pin)."""

    private: Path
    pinned: Path
    origin: str = DEFAULT_ORIGIN
    retired: Path | None = None  # None: beside the pinned key, see retired_path

    @classmethod
    def at(cls, private: Path, origin: str = DEFAULT_ORIGIN) -> CheckpointKeys:
        """The private key at ``private``, its public key pinned beside it (``.pub``)."""
        return cls(private, private.with_suffix(".pub"), origin)

    @property
    def retired_path(self) -> Path:
        """The retired keys' file (``PLATFORMS_CHECKPOINT_RETIRED_KEYS``, default beside the pin)."""
        return self.retired or self.pinned.with_suffix(".retired.json")

    def pinned_public_key(self) -> bytes | None:
        """The pinned public key PEM, or None when none has been pinned yet."""
        return self.pinned.read_bytes() if self.pinned.exists() else None

    def retired_keys(self) -> bytes | None:
        """The retired keys' file as stored (the verifier judges it), or None when there is none."""
        path = self.retired_path
        return path.read_bytes() if path.exists() else None

    def load_signer(self, create: bool = True) -> CheckpointSigner:
        """The signer from the key file (created on first use when ``create``), pinning its
        public key if nothing is pinned yet (trust on first use; an existing pin is never
        overwritten but by a rotation, so a replaced private key shows up as a key mismatch)."""
        signer = CheckpointSigner.load_or_create(self.private, create=create)
        self.ensure_pinned(signer)
        return signer

    def ensure_pinned(self, signer: CheckpointSigner) -> None:
        """Pin ``signer``'s public key if nothing is pinned yet (for signers loaded elsewhere)."""
        if not self.pinned.exists():
            self.pinned.parent.mkdir(parents=True, exist_ok=True)
            self.pinned.write_bytes(signer.public_key_pem())

"""Where the checkpoint keys live: the private key for signing, and the *pinned* public key for
verifying.

The private key is a file outside the event store (``PLATFORMS_CHECKPOINT_KEY``, default
``keys/checkpoint-ed25519.pem`` under ``PLATFORMS_VAR_DIR``). Verifying a checkpoint with
"whatever key is in that file now" would prove nothing if someone replaced the file, so the
verifier checks against a pinned public key: ``PLATFORMS_CHECKPOINT_PUBKEY`` (a PEM file the
operator or the auditors keep), or by default ``<private key>.pub``, written once when the key is
first created and never rewritten.
"""

from __future__ import annotations

import os
from pathlib import Path

from .signing import CheckpointSigner, key_path_from_env

__all__ = ["PUBKEY_ENV", "ensure_pinned", "load_signer", "pinned_public_key", "pinned_public_key_path"]

PUBKEY_ENV = "PLATFORMS_CHECKPOINT_PUBKEY"


def pinned_public_key_path() -> Path:
    """``$PLATFORMS_CHECKPOINT_PUBKEY`` or the private key's path with the suffix ``.pub``."""
    value = os.environ.get(PUBKEY_ENV, "").strip()
    return Path(value) if value else key_path_from_env().with_suffix(".pub")


def pinned_public_key() -> bytes | None:
    """The pinned public key PEM, or None when none has been pinned yet."""
    path = pinned_public_key_path()
    return path.read_bytes() if path.exists() else None


def load_signer(create: bool = True) -> CheckpointSigner:
    """The signer from the configured key file (created on first use when ``create``), pinning
    its public key if nothing is pinned yet (trust on first use; an existing pin is never
    overwritten, so a replaced private key shows up as a key mismatch)."""
    signer = CheckpointSigner.load_or_create(key_path_from_env(), create=create)
    ensure_pinned(signer)
    return signer


def ensure_pinned(signer: CheckpointSigner) -> None:
    """Pin ``signer``'s public key if nothing is pinned yet (for signers loaded elsewhere)."""
    pin = pinned_public_key_path()
    if not pin.exists():
        pin.parent.mkdir(parents=True, exist_ok=True)
        pin.write_bytes(signer.public_key_pem())

"""Where the checkpoint keys live: the private key for signing, and the *pinned* public key for
verifying; and the log's origin, the name both sign under.

The private key is a file outside the event store (``PLATFORMS_CHECKPOINT_KEY``, default
``keys/checkpoint-ed25519.pem`` under ``PLATFORMS_VAR_DIR``). Verifying a checkpoint with
"whatever key is in that file now" would prove nothing if someone replaced the file, so the
verifier checks against a pinned public key: ``PLATFORMS_CHECKPOINT_PUBKEY`` (a PEM file the
operator or the auditors keep), or by default ``<private key>.pub``, written once when the key is
first created and never rewritten. The settings (:attr:`api.settings.Settings.checkpoint_keys`)
say where they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .signing import DEFAULT_ORIGIN, CheckpointSigner

__all__ = ["CheckpointKeys"]


@dataclass(frozen=True)
class CheckpointKeys:
    """The signing key's file, the pinned public key's file, and the log's origin line
    (``PLATFORMS_LOG_ORIGIN``: the key name of its signed notes, which witnesses pin)."""

    private: Path
    pinned: Path
    origin: str = DEFAULT_ORIGIN

    @classmethod
    def at(cls, private: Path, origin: str = DEFAULT_ORIGIN) -> CheckpointKeys:
        """The private key at ``private``, its public key pinned beside it (``.pub``)."""
        return cls(private, private.with_suffix(".pub"), origin)

    def pinned_public_key(self) -> bytes | None:
        """The pinned public key PEM, or None when none has been pinned yet."""
        return self.pinned.read_bytes() if self.pinned.exists() else None

    def load_signer(self, create: bool = True) -> CheckpointSigner:
        """The signer from the key file (created on first use when ``create``), pinning its
        public key if nothing is pinned yet (trust on first use; an existing pin is never
        overwritten, so a replaced private key shows up as a key mismatch)."""
        signer = CheckpointSigner.load_or_create(self.private, create=create)
        self.ensure_pinned(signer)
        return signer

    def ensure_pinned(self, signer: CheckpointSigner) -> None:
        """Pin ``signer``'s public key if nothing is pinned yet (for signers loaded elsewhere)."""
        if not self.pinned.exists():
            self.pinned.parent.mkdir(parents=True, exist_ok=True)
            self.pinned.write_bytes(signer.public_key_pem())

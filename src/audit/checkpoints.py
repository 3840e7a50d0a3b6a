"""Signing checkpoints: on demand (``platforms audit checkpoint``, ``POST /audit/checkpoints``)
and on a schedule (:mod:`audit.watch`).

A checkpoint is signed only after the verifier has passed over the log it covers, so a valid
signature attests "these exact bytes, whose chains were checked". The signed tree head is the
verifier's own size and root for the snapshot it read, so writes that land meanwhile are simply
left for the next checkpoint. Each checkpoint is signed twice by the same key: the registry's
v1 message, and the C2SP signed note that witnesses cosign (origin ``PLATFORMS_LOG_ORIGIN``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from .checkpoint_store import store_checkpoint
from .keys import CheckpointKeys
from .signing import CheckpointSigner, SignedCheckpoint
from .verify import Failure, VerifyReport, verify_log

__all__ = ["LogNotIntact", "SignerNotPinned", "sign_checkpoint"]


class LogNotIntact(Exception):
    """Refusal to sign a log that does not verify: signing would launder the tampering."""

    def __init__(self, report: VerifyReport) -> None:
        first = report.first_failure
        super().__init__(f"the log does not verify: {first.reason if first else 'unknown failure'}")
        self.report = report


class SignerNotPinned(LogNotIntact):
    """Refusal to sign with a key that is not the pinned one: the key file was replaced, or a
    rotation (:mod:`audit.rotation`) is between writing the new key and pinning it."""


def sign_checkpoint(app: Any, signer: CheckpointSigner, keys: CheckpointKeys, now: datetime | None = None,
                    verify: Callable[[Any], VerifyReport] | None = None) -> SignedCheckpoint:
    """Verify the log, then sign and store ``{size, root, signed_at}`` and its signed note. The
    checkpoint's key must be the pinned one (a replaced key is refused by the verifier, which
    reports key mismatch for the checkpoints it signs, so it is checked here before anything is
    stored). The note is signed under ``keys.origin``. ``verify`` is how the log is verified
    (default: here, against ``keys``' pinned key; the integrity watch does it in a process of
    its own)."""
    origin = keys.origin
    report = verify(app) if verify is not None else verify_log(app, public_key_pem=keys.pinned_public_key(),
                                                               retired_keys=keys.retired_keys())
    if not report.ok:
        raise LogNotIntact(report)
    pinned = keys.pinned_public_key()
    if pinned is not None and pinned != signer.public_key_pem():
        report.ok = False
        report.first_failure = Failure("key_mismatch", "key mismatch: the signing key is not the pinned key")
        raise SignerNotPinned(report)
    root = bytes.fromhex(report.root)
    checkpoint = signer.sign(report.size, root, now or datetime.now(UTC))
    store_checkpoint(app, checkpoint, origin, signer.sign_note(origin, report.size, root))
    return checkpoint

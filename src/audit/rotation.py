"""Rotating the checkpoint key (``platforms audit rotate-key``; docs/AUDIT.md, "Rotating the
checkpoint key").

A key is replaced without breaking the chain of trust: the old key signs a last checkpoint of
the verified log, is retired (its public key kept, with that checkpoint's size and time, in the
retired keys' file: :mod:`audit.keys`), a new key is made and pinned, and the new key signs a
checkpoint of the same log at once. Every checkpoint is then verified under the key that was
current when it was signed, and the log between the two is covered by both keys.

The steps are ordered so that no reader sees a state that does not verify: the retired file is
written before the pin changes (old checkpoints stay valid), the pin before the key file (the
running signer, which reloads a replaced key file, cannot sign with a key not yet pinned; in the
instant between, it refuses and tries again). Each file is replaced atomically. The new key is
first written beside the old one (``KEY.new``, 0600) and moved over it last; the old private
key is gone afterwards (a backup made with the keys still holds it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .checkpoint_store import load_checkpoints
from .checkpoints import sign_checkpoint
from .keys import CheckpointKeys, RetiredKey, parse_retired, retired_file, write_atomically
from .signing import CheckpointSigner, SignedCheckpoint, verify_checkpoint

__all__ = ["Rotation", "RotationRefused", "rotate_checkpoint_key"]


class RotationRefused(Exception):
    """The key files are not in a state a rotation can start from; nothing was changed."""


@dataclass(frozen=True)
class Rotation:
    """What a rotation did: the key it retired (with the last checkpoint that key signed) and
    the first checkpoint signed by the new key."""

    retired: RetiredKey
    last_old: SignedCheckpoint
    first_new: SignedCheckpoint
    new_public_pem: bytes


def rotate_checkpoint_key(app: Any, keys: CheckpointKeys, now: datetime | None = None) -> Rotation:
    """Retire the current checkpoint key and pin a new one (see the module docstring). Raises
    :class:`RotationRefused` (nothing changed) or :class:`audit.checkpoints.LogNotIntact` (the
    log does not verify: nothing is signed or changed)."""
    try:
        old = CheckpointSigner.load_or_create(keys.private, create=False)
    except (OSError, ValueError) as exc:
        raise RotationRefused(f"the checkpoint signing key cannot be loaded: {exc}") from None
    pinned = keys.pinned_public_key()
    staged = keys.private.with_name(keys.private.name + ".new")
    if pinned != old.public_key_pem():
        hint = (f"; a rotation was interrupted after pinning the new key: move {staged} over {keys.private}"
                if staged.exists() else "")
        raise RotationRefused(f"the signing key {keys.private} is not the pinned key {keys.pinned}{hint}")
    raw = keys.retired_keys()
    try:
        earlier = parse_retired(raw) if raw is not None else ()
    except ValueError as exc:
        raise RotationRefused(f"the retired keys' file {keys.retired_path} cannot be read: {exc}") from None
    last = sign_checkpoint(app, old, keys, now)
    new = CheckpointSigner.load_or_create(staged, create=not staged.exists())
    others = tuple(k for k in earlier if k.key_id != old.key_id())
    retired = RetiredKey(old.public_key_pem(), old.key_id(), last.size, last.signed_at)
    write_atomically(keys.retired_path, retired_file((*others, retired)))
    write_atomically(keys.pinned, new.public_key_pem())
    # From here on no process signs with the old key. One that signed with it after `last` (the
    # integrity watch, in the same instant) is taken into the retired key's bounds.
    later = [cp for _, cp in load_checkpoints(app)
             if cp.key_id == old.key_id() and cp.size >= last.size and verify_checkpoint(cp, old.public_key_pem())]
    if later:
        final = max(later, key=lambda cp: (cp.size, datetime.fromisoformat(cp.signed_at)))
        if (final.size, final.signed_at) != (last.size, last.signed_at):
            retired = RetiredKey(old.public_key_pem(), old.key_id(), final.size,
                                 max((cp.signed_at for cp in later), key=datetime.fromisoformat))
            write_atomically(keys.retired_path, retired_file((*others, retired)))
    os.replace(staged, keys.private)
    first = sign_checkpoint(app, new, keys, now)
    return Rotation(retired, last, first, new.public_key_pem())

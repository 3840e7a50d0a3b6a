"""Signed checkpoints are kept forever in their own table, ``audit_checkpoints``, beside the event
table (:mod:`audit.tables`).

They are not events: a checkpoint is a statement *about* the log, and putting it in the log
would change the log it describes. The table lives in the same database (and PostgreSQL schema)
as the events, so a backup holds both; its rows prove nothing by themselves, only their
signatures under the pinned public key do.

A row holds the checkpoint's v1 signature (:mod:`audit.signing`) and, for checkpoints signed
since the registry publishes C2SP signed notes, the note's ``origin`` and ``note_signature``
(the base64 field of the log's signature line: key ID and Ed25519 signature, :mod:`audit.note`).
Rows from before have neither and are published without a note.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import tables
from .note import NoteSignature
from .signing import SignedCheckpoint

__all__ = ["StoredCheckpoint", "checkpoints_after", "has_tree_head", "latest_checkpoint", "latest_stored",
           "load_checkpoints", "store_checkpoint"]

_COLUMNS = "id, size, root, signed_at, key_id, signature, origin, note_signature"


@dataclass(frozen=True)
class StoredCheckpoint:
    """A stored checkpoint: its id (the order of signing), the signed checkpoint, and its note's
    origin and signature when it has one."""

    id: int
    checkpoint: SignedCheckpoint
    origin: str | None = None
    note_signature: str | None = None


def store_checkpoint(app: Any, cp: SignedCheckpoint, origin: str | None = None,
                     note_signature: NoteSignature | None = None) -> int:
    """Append a signed checkpoint (with its note's origin and signature, when given); returns its id."""
    note_b64 = note_signature.b64 if note_signature is not None else None
    values = (cp.size, cp.root_hex, cp.signed_at, cp.key_id, cp.signature_b64, origin, note_b64)
    with tables.transaction(app) as tx:
        return int(tx.insert(f"INSERT INTO {tx.table(tables.CHECKPOINTS)} (size, root, signed_at, key_id, signature, "  # noqa: S608 - fixed names
                             "origin, note_signature) VALUES (?,?,?,?,?,?,?)", values) or 0)


def _select(app: Any, where: str, params: tuple[Any, ...], tail: str) -> list[StoredCheckpoint]:
    """Rows matching ``where`` (``?`` placeholders) with ``tail`` (ORDER BY / LIMIT), as stored,
    even malformed ones: judging them is the verifier's job."""
    with tables.transaction(app) as tx:
        rows = tx.query(f"SELECT {_COLUMNS} FROM {tx.table(tables.CHECKPOINTS)} WHERE {where} {tail}", params)  # noqa: S608 - fixed names
    return [StoredCheckpoint(int(i), SignedCheckpoint(int(size), str(root), str(at), str(kid), str(sig)),
                             origin, note)
            for i, size, root, at, kid, sig, origin, note in rows]


def checkpoints_after(app: Any, after: int = 0, limit: int | None = None) -> list[StoredCheckpoint]:
    """Stored checkpoints with ``id > after``, oldest first, at most ``limit``."""
    tail = "ORDER BY id" + (f" LIMIT {int(limit)}" if limit is not None else "")
    return _select(app, "id > ?", (after,), tail)


def load_checkpoints(app: Any) -> list[tuple[int, SignedCheckpoint]]:
    """Every stored checkpoint as (id, checkpoint), oldest first (what the verifier checks)."""
    return [(s.id, s.checkpoint) for s in checkpoints_after(app)]


def latest_stored(app: Any) -> StoredCheckpoint | None:
    """The most recently stored checkpoint with its note, or None."""
    found = _select(app, "1 = 1", (), "ORDER BY id DESC LIMIT 1")
    return found[0] if found else None


def latest_checkpoint(app: Any) -> SignedCheckpoint | None:
    """The most recently stored checkpoint, or None."""
    stored = latest_stored(app)
    return stored.checkpoint if stored is not None else None


def has_tree_head(app: Any, origin: str, size: int, root_hex: str) -> bool:
    """Whether a checkpoint with this note origin, size and root was signed here."""
    return bool(_select(app, "origin = ? AND size = ? AND root = ? AND note_signature IS NOT NULL",
                        (origin, size, root_hex), "LIMIT 1"))

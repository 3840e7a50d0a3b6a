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
from .rows import store_kind
from .signing import SignedCheckpoint

__all__ = ["StoredCheckpoint", "checkpoints_after", "has_tree_head", "latest_checkpoint", "latest_stored",
           "load_checkpoints", "store_checkpoint"]

_COLUMNS = "id, size, root, signed_at, key_id, signature, origin, note_signature"
_MEMORY = "_audit_checkpoints"


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
    insert = ("INSERT INTO {} (size, root, signed_at, key_id, signature, origin, note_signature) "
              "VALUES (?,?,?,?,?,?,?)")
    kind = store_kind(app)
    if kind == "sqlite":
        with tables.sqlite(app) as conn, conn:
            return int(conn.execute(insert.format(tables.CHECKPOINTS), values).lastrowid or 0)
    if kind == "postgres":
        from psycopg.sql import SQL

        with tables.postgres(app) as cur:
            cur.execute(SQL(insert.replace("?", "%s") + " RETURNING id").format(
                tables.pg_table(app, tables.CHECKPOINTS)), values)
            return int(cur.fetchone()["id"])
    held = app.__dict__.setdefault(_MEMORY, [])
    held.append(StoredCheckpoint(len(held) + 1, cp, origin, note_b64))
    return len(held)


def _select(app: Any, where: str, params: tuple[Any, ...], tail: str) -> list[StoredCheckpoint]:
    """Rows of a SQLite or PostgreSQL store matching ``where`` (``?`` placeholders) with ``tail``
    (ORDER BY / LIMIT), as stored, even malformed ones: judging them is the verifier's job."""
    if store_kind(app) == "sqlite":
        with tables.sqlite(app) as conn:
            rows = conn.execute(f"SELECT {_COLUMNS} FROM {tables.CHECKPOINTS} WHERE {where} {tail}",  # noqa: S608 - fixed names
                                params).fetchall()
    else:
        from psycopg.sql import SQL

        with tables.postgres(app) as cur:
            sql = f"SELECT {_COLUMNS} FROM {{}} WHERE {where} {tail}".replace("?", "%s")  # noqa: S608 - fixed names
            cur.execute(SQL(sql).format(tables.pg_table(app, tables.CHECKPOINTS)), params)
            rows = [tuple(r.values()) for r in cur.fetchall()]
    return [StoredCheckpoint(int(i), SignedCheckpoint(int(size), str(root), str(at), str(kid), str(sig)),
                             origin, note)
            for i, size, root, at, kid, sig, origin, note in rows]


def _memory(app: Any) -> list[StoredCheckpoint]:
    return list(app.__dict__.get(_MEMORY, []))


def checkpoints_after(app: Any, after: int = 0, limit: int | None = None) -> list[StoredCheckpoint]:
    """Stored checkpoints with ``id > after``, oldest first, at most ``limit``."""
    if store_kind(app) == "generic":
        found = [s for s in _memory(app) if s.id > after]
        return found[:limit] if limit is not None else found
    tail = "ORDER BY id" + (f" LIMIT {int(limit)}" if limit is not None else "")
    return _select(app, "id > ?", (after,), tail)


def load_checkpoints(app: Any) -> list[tuple[int, SignedCheckpoint]]:
    """Every stored checkpoint as (id, checkpoint), oldest first (what the verifier checks)."""
    return [(s.id, s.checkpoint) for s in checkpoints_after(app)]


def latest_stored(app: Any) -> StoredCheckpoint | None:
    """The most recently stored checkpoint with its note, or None."""
    if store_kind(app) == "generic":
        held = _memory(app)
        return held[-1] if held else None
    found = _select(app, "1 = 1", (), "ORDER BY id DESC LIMIT 1")
    return found[0] if found else None


def latest_checkpoint(app: Any) -> SignedCheckpoint | None:
    """The most recently stored checkpoint, or None."""
    stored = latest_stored(app)
    return stored.checkpoint if stored is not None else None


def has_tree_head(app: Any, origin: str, size: int, root_hex: str) -> bool:
    """Whether a checkpoint with this note origin, size and root was signed here."""
    if store_kind(app) == "generic":
        return any((s.origin, s.checkpoint.size, s.checkpoint.root_hex) == (origin, size, root_hex)
                   for s in _memory(app))
    return bool(_select(app, "origin = ? AND size = ? AND root = ? AND note_signature IS NOT NULL",
                        (origin, size, root_hex), "LIMIT 1"))

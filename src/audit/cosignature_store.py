"""Witness cosignatures are kept forever in ``audit_cosignatures``, beside ``audit_checkpoints``
(:mod:`audit.tables`).

A cosignature (c2sp.org/tlog-cosignature) signs a tree head, ``origin / size / root``, not a
row: it is stored under that head and served with every checkpoint that has it. One per witness
key and tree head: a witness that sends the same head again gets the one already stored. Rows
hold what the signature line holds (key name, key ID, the base64 of key ID || timestamp ||
signature), the operator's name for the witness at the time it was accepted, and when.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from . import tables
from .note import NoteSignature, parse_signature_line

__all__ = ["Head", "StoredCosignature", "cosignatures_for", "store_cosignature"]

Head = tuple[str, int, str]  # (origin, size, root hex), as in audit_checkpoints
_COLUMNS = "origin, size, root, witness, key_name, key_id, timestamp, signature, received_at"


@dataclass(frozen=True)
class StoredCosignature:
    """One accepted cosignature of the tree head ``(origin, size, root_hex)``."""

    origin: str
    size: int
    root_hex: str
    witness: str
    key_name: str
    key_id: str
    timestamp: int
    signature_b64: str
    received_at: str

    @property
    def head(self) -> Head:
        return (self.origin, self.size, self.root_hex)

    def note_signature(self) -> NoteSignature:
        return parse_signature_line(f"\u2014 {self.key_name} {self.signature_b64}")

    def to_dict(self) -> dict[str, Any]:
        """JSON form: who (``witness``, the operator's name; ``key_name``, ``key_id``), when
        (``timestamp``, POSIX seconds as signed; ``cosigned_at``, the same instant in ISO 8601),
        the signature line's base64 and the whole ``line``."""
        return {"witness": self.witness, "key_name": self.key_name, "key_id": self.key_id,
                "timestamp": self.timestamp,
                "cosigned_at": datetime.fromtimestamp(self.timestamp, UTC).isoformat(),
                "signature": self.signature_b64, "line": self.note_signature().line().rstrip("\n"),
                "received_at": self.received_at}


def _row(values: Iterable[Any]) -> StoredCosignature:
    origin, size, root, witness, key_name, key_id, timestamp, signature, received_at = values
    return StoredCosignature(str(origin), int(size), str(root), str(witness), str(key_name), str(key_id),
                             int(timestamp), str(signature), str(received_at))


def store_cosignature(app: Any, cos: StoredCosignature) -> tuple[StoredCosignature, bool]:
    """Keep ``cos`` unless this witness key already cosigned this head; returns the stored
    cosignature and whether it is the one just given."""
    values = (cos.origin, cos.size, cos.root_hex, cos.witness, cos.key_name, cos.key_id, cos.timestamp,
              cos.signature_b64, cos.received_at)
    key = (cos.origin, cos.size, cos.root_hex, cos.key_name, cos.key_id)
    with tables.transaction(app) as tx:
        table = tx.table(tables.COSIGNATURES)
        created = tx.insert(f"INSERT INTO {table} ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?) "  # noqa: S608 - fixed names
                            "ON CONFLICT DO NOTHING", values) is not None
        [stored] = tx.query(f"SELECT {_COLUMNS} FROM {table} WHERE origin = ? AND size = ? AND root = ? "  # noqa: S608 - fixed names
                            "AND key_name = ? AND key_id = ?", key)
    return _row(stored), created


def cosignatures_for(app: Any, heads: Iterable[Head]) -> dict[Head, list[StoredCosignature]]:
    """The cosignatures of each of ``heads``, oldest first (one query per origin)."""
    wanted = set(heads)
    found: dict[Head, list[StoredCosignature]] = {h: [] for h in wanted}
    rows: list[StoredCosignature] = []
    for origin in {h[0] for h in wanted}:
        sizes = sorted({h[1] for h in wanted if h[0] == origin})
        with tables.transaction(app) as tx:
            rows.extend(_row(r) for r in tx.query(
                f"SELECT {_COLUMNS} FROM {tx.table(tables.COSIGNATURES)} WHERE origin = ? "  # noqa: S608 - fixed names
                f"AND size IN ({','.join('?' * len(sizes))}) ORDER BY timestamp, id", (origin, *sizes)))
    for cos in sorted(rows, key=lambda c: c.timestamp):
        if cos.head in found:
            found[cos.head].append(cos)
    return found

"""The stored event rows, read straight from the event store, their chain hash and their Merkle
leaf.

Audit reads the table the ``eventsourcing`` recorder writes, not the library's domain objects:
what is verified must be the bytes that are stored. A snapshot of the event table's adapter
(:meth:`aggregates.event_table.EventTable.snapshot`: one read transaction on SQLite, one
REPEATABLE READ transaction with server-side cursors on PostgreSQL) gives the verifier a
consistent view of the whole log while writers carry on, and streams it in bounded memory.

Rows come in two shapes:

* **raw** (:meth:`~aggregates.event_table.Snapshot.rows`, the verifier's hot path): lists of
  tuples ``(position, id, version, topic, state)``, ``id`` (32 hex digits) and ``topic`` as
  bytes and ``state`` the stored bytes (:mod:`aggregates.event_table.base`);
* :class:`StoredRow` (history, time travel, tests): the same with text fields and the id as
  hyphenated UUID text.

Chain hash (:mod:`aggregates.hashing`; recomputed here without parsing anything), which is
also the row's Merkle leaf hash (RFC 9162: leaf = the row's bytes, leaf hash = SHA-256 of a
zero byte and the leaf; documented in docs/AUDIT.md so that anyone can recompute it)::

    chain_hash = leaf_hash = SHA-256(0x00 topic "\\n" id-hex "\\n" version-decimal "\\n" state)

It commits to the topic, id, version and every stored byte of the state; the tree over the
leaves, in log order, commits to each row's place in the log.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from aggregates.event_table import event_table
from aggregates.event_table.base import as_bytes

__all__ = ["StoredRow", "iter_rows", "chain_digest", "leaf_hash_of", "seal_layout", "SealLayout", "recorded_at",
           "PREV_HASH_KEY", "ID_HEX", "stream_rows", "id_text"]

_sha256 = hashlib.sha256
# How the transcoder writes an event's prev_hash (compact JSON, the first occurrence of the key,
# near the start), and a stream id as the chain hash spells it.
PREV_HASH_KEY = b'"prev_hash":"'
ID_HEX = re.compile(rb"[0-9a-f]{32}")


@dataclass(frozen=True, slots=True)
class StoredRow:
    """One row of the event table as stored: its log position and its four columns."""

    position: int
    originator_id: str  # hyphenated UUID text (the stored text if it is not a UUID)
    version: int
    topic: str
    state: bytes | None
    id_hex: bytes = b""  # the id as the chain hash spells it (see the module docstring)

    @classmethod
    def from_raw(cls, raw: tuple[Any, ...]) -> StoredRow:
        pos, oid, ver, topic, state = raw
        oid = as_bytes(oid) or b""
        return cls(pos, id_text(oid), ver, _text(topic), as_bytes(state), oid)

    def chain_hash(self) -> bytes:
        return chain_digest(self.topic, self.id_hex, self.version, self.state)


def id_text(oid: bytes) -> str:
    """Hyphenated UUID text of a raw id (for reports); the raw text if it is not 32 hex digits."""
    text = oid.decode("utf-8", "backslashreplace")
    try:
        return str(UUID(hex=text)) if len(text) == 32 else text
    except ValueError:
        return text


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogateescape")
    return "" if value is None else str(value)


def chain_digest(topic: Any, oid: Any, version: Any, state: Any) -> bytes:
    """The raw 32-byte chain hash of a stored row, whatever the columns hold: text or bytes,
    ``None`` taken as empty (a malformed row then simply fails to chain)."""
    t = as_bytes(topic) or b""
    o = oid.hex.encode() if isinstance(oid, UUID) else (as_bytes(oid) or b"")
    v = str(version).encode() if isinstance(version, int) else (as_bytes(version) or b"")
    return _sha256(b"\x00%b\n%b\n%b\n%b" % (t, o, v, as_bytes(state) or b"")).digest()


def recorded_at(state: bytes) -> datetime | None:
    """When a stored event says it was recorded (its ``timestamp``), None if that cannot be read
    as an aware instant."""
    try:
        stamp = json.loads(state)["timestamp"]
        when = datetime.fromisoformat(stamp["_data_"] if isinstance(stamp, dict) else stamp)
    except Exception:  # noqa: BLE001 - an unreadable timestamp is for other checks to report
        return None
    return when if when.tzinfo is not None else None  # the application only writes aware instants


def leaf_hash_of(row: StoredRow) -> bytes:
    """The Merkle leaf hash of a stored row: its chain hash, which is already RFC 9162's
    ``SHA-256(0x00 || row bytes)``."""
    return row.chain_hash()


def iter_rows(app: Any, after: int = 0, upto: int | None = None, limit: int | None = None) -> Iterator[StoredRow]:
    """Every stored event row with ``after < position <= upto`` in log order (at most ``limit``),
    read in one snapshot."""
    from_raw = StoredRow.from_raw
    with event_table(app).snapshot() as snap:
        for rows in snap.rows(after, upto, limit, 5000):
            for raw in rows:
                yield from_raw(raw)


@dataclass(frozen=True)
class SealLayout:
    """Where the log seal says things are, read in one snapshot: how many seal rows (the last
    ``seq``) and sealed events there are, the highest stored position, and for each log index
    asked about the seal row holding it and its position (a split scan cuts the log there)."""

    seals: int
    sealed: int
    top: int
    at: dict[int, tuple[int, int]]


def seal_layout(app: Any, indices: list[int]) -> SealLayout | None:
    """The :class:`SealLayout` of the log now, read in one snapshot, each of ``indices`` found by
    a binary search over ``seq`` (a few indexed lookups each). None where the store has no seal,
    or where the seal is not what an intact one would be (the caller then scans the log in one
    pass, which names it)."""
    with event_table(app).snapshot() as snap:
        last = snap.last_seal()
        if last is None or not all(isinstance(v, int) for v in last):
            return None
        top = snap.top()

        def row_at(seq: int) -> tuple[int, int, int] | None:
            row = snap.seal_at(seq)
            return row if row is not None and all(isinstance(v, int) for v in row) else None

        at: dict[int, tuple[int, int]] = {}
        for index in indices:
            lo, hi = 1, last[0]
            while lo < hi:  # the last seal row whose first_index <= index
                mid = (lo + hi + 1) // 2
                row = row_at(mid)
                if row is None:
                    return None
                lo, hi = (mid, hi) if row[0] <= index else (lo, mid - 1)
            row = row_at(lo)
            if row is None or not row[0] <= index < row[0] + row[1]:
                return None
            at[index] = (lo, row[2] + index - row[0])
        return SealLayout(last[0], last[1], top, at)


def stream_rows(app: Any, originator_id: UUID) -> list[StoredRow]:
    """The stored rows of one stream, in version order, with their log positions."""
    return [StoredRow.from_raw(r) for r in event_table(app).stream(originator_id)]

"""Merkle proofs over the stored log, for auditors who verify offline (tools/verify_offline.py).

The tree's leaves are the stored rows in log order (index 0 is the first row), hashed as
:func:`audit.rows.chain_digest` (the event hash, which is its RFC 9162 leaf hash). Building a
proof reads the leaves of the requested size once.
"""

from __future__ import annotations

from typing import Any

from aggregates.errors import InvalidInput, NotFound
from aggregates.event_table import event_table

from .merkle import consistency_proof, inclusion_proof, root_from_leaf_hashes
from .rows import chain_digest

__all__ = ["leaf_hashes", "inclusion", "consistency"]


def leaf_hashes(app: Any, size: int | None = None) -> tuple[list[bytes], list[int]]:
    """The first ``size`` leaf hashes (all when None) and their log positions."""
    hashes: list[bytes] = []
    positions: list[int] = []
    with event_table(app).snapshot() as snapshot:
        for rows in snapshot.rows(limit=size):
            for pos, oid, ver, topic, state in rows:
                hashes.append(chain_digest(topic, oid, ver, state))
                positions.append(pos)
    if size is not None and len(hashes) < size:
        raise NotFound("size_not_found", f"the log holds {len(hashes)} events, fewer than {size}")
    return hashes, positions


def inclusion(app: Any, position: int, size: int | None = None) -> dict[str, Any]:
    """Proof that the event at log ``position`` is in the tree of the first ``size`` events."""
    hashes, positions = leaf_hashes(app, size)
    try:
        index = positions.index(position)
    except ValueError:
        raise NotFound("position_not_found", f"no event at position {position} within size {len(hashes)}") from None
    return {"position": position, "index": index, "size": len(hashes), "leaf_hash": hashes[index].hex(),
            "root": root_from_leaf_hashes(hashes).hex(),
            "proof": [h.hex() for h in inclusion_proof(index, hashes)]}


def consistency(app: Any, old_size: int, new_size: int | None = None) -> dict[str, Any]:
    """Proof that the tree of ``new_size`` events extends the tree of ``old_size`` events."""
    hashes, _ = leaf_hashes(app, new_size)
    if not 0 <= old_size <= len(hashes):
        raise InvalidInput("invalid_size", f"old_size must be between 0 and {len(hashes)}", "old_size")
    return {"old_size": old_size, "new_size": len(hashes),
            "old_root": root_from_leaf_hashes(hashes[:old_size]).hex(),
            "new_root": root_from_leaf_hashes(hashes).hex(),
            "proof": [h.hex() for h in consistency_proof(old_size, hashes)]}

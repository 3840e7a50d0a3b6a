"""The hash chain: each event names the hash of its predecessor in the same stream.

The hash is SHA-256 over a canonical encoding of the decoded event (sorted keys, no spaces,
UTF-8, dates and instants in ISO 8601, UUIDs and decimals as strings), so it does not depend
on how a store happens to serialise the event. The audit verifier decodes the stored bytes and
recomputes it; changing one byte of a stored event breaks the chain at the next event (and the
Merkle checkpoint covers the last one).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, is_dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

GENESIS = "0" * 64


def _default(obj: Any) -> Any:
    """Encodes the non-JSON types of events (json itself handles str-enums, tuples, dicts)."""
    if isinstance(obj, datetime):
        return obj.astimezone(timezone.utc).isoformat()
    if isinstance(obj, date):
        return obj.isoformat()
    if isinstance(obj, (UUID, Decimal)):
        return str(obj)
    if isinstance(obj, Enum):
        return obj.value
    if is_dataclass(obj) and not isinstance(obj, type):
        return asdict(obj)
    raise TypeError(f"cannot canonicalise {type(obj).__name__}")


_encoder = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_default)


def canonical_bytes(topic: str, state: dict[str, Any]) -> bytes:
    """The canonical encoding of an event given its topic and attribute dict."""
    return _encoder.encode({"topic": topic, **state}).encode()


def event_hash(topic: str, state: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_bytes(topic, state)).hexdigest()

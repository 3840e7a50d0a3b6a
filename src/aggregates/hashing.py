"""The hash chain: each event names the hash of its predecessor in the same stream.

An event's hash is the RFC 9162 Merkle leaf hash of its stored row: SHA-256 over a zero byte
(RFC 9162's leaf prefix), then exactly the bytes the event store keeps for the event, prefixed
by what the row keeps beside them::

    0x00 topic "\\n" originator_id (32 hex digits) "\\n" originator_version (decimal) "\\n" state

where ``state`` is the event's JSON as the application's transcoder writes it
(:func:`aggregates.transcodings.make_transcoder`). The writer computes it from the event
object before saving; since the store keeps those very bytes, an auditor recomputes it from
the stored row alone, with no decoding, and one changed byte breaks the chain at the next
event. The same digest is the row's leaf in the Merkle tree over the whole log, whose signed
checkpoints cover the last event of each stream: one hash of each row serves both.

Events whose class is ever upcast (``class_version`` > 1) are re-encoded differently from
their stored bytes: such a class must then keep its chain by hashing the stored form.
"""

from __future__ import annotations

import hashlib
from typing import Any
from uuid import UUID

from .transcodings import make_transcoder

GENESIS = "0" * 64

_transcoder = make_transcoder()


def chain_bytes(topic: str, originator_id: UUID | str, version: int, state: bytes) -> bytes:
    """The hashed form of one stored event row (RFC 9162 leaf prefix included)."""
    oid = originator_id.hex if isinstance(originator_id, UUID) else UUID(originator_id).hex
    return b"\x00" + f"{topic}\n{oid}\n{version}\n".encode() + state


def stored_event_hash(topic: str, originator_id: UUID | str, version: int, state: bytes) -> str:
    """The hash of a stored row, straight from its bytes (what the auditor computes)."""
    return hashlib.sha256(chain_bytes(topic, originator_id, version, state)).hexdigest()


def event_hash(topic: str, event_state: dict[str, Any]) -> str:
    """The hash of an event object (what the writer computes), equal to
    :func:`stored_event_hash` of the row the store will keep for it."""
    state = dict(event_state)
    originator_id = state.pop("originator_id")
    version = state.pop("originator_version")
    return stored_event_hash(topic, originator_id, version, _transcoder.encode(state))

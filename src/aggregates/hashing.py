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

An event class whose shape changed (``class_version`` > 1, docs/EVENTS.md) is stored with its
``class_version`` after its fields, as the library's mapper writes it, and :func:`event_hash`
adds it the same way. An event read back from the store through :class:`ChainMapper` keeps the
hash of its stored row (:data:`STORED_HASH`): once upcast, re-encoding it would give the new
shape's bytes, not the stored ones that the next event names and the auditor hashes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable
from typing import Any, cast
from uuid import UUID

from eventsourcing.persistence import Mapper, MapperDeserialisationError, StoredEvent, find_id_convertor
from eventsourcing.utils import get_topic, resolve_topic

from .transcodings import make_transcoder

GENESIS = "0" * 64
# The key under which an event read from the store keeps its stored row's hash: never stored
# itself (a read event is never saved again).
STORED_HASH = "_stored_hash"

_transcoder = make_transcoder()


def chain_bytes(topic: str, originator_id: UUID | str, version: int, state: bytes) -> bytes:
    """The hashed form of one stored event row (RFC 9162 leaf prefix included)."""
    oid = originator_id.hex if isinstance(originator_id, UUID) else UUID(originator_id).hex
    return b"\x00" + f"{topic}\n{oid}\n{version}\n".encode() + state


def stored_event_hash(topic: str, originator_id: UUID | str, version: int, state: bytes) -> str:
    """The hash of a stored row, straight from its bytes (what the auditor computes)."""
    return hashlib.sha256(chain_bytes(topic, originator_id, version, state)).hexdigest()


# The bytes each event a command triggered was hashed from, by the event's id() (with the event,
# so that the id is not reused while kept), until the store takes them (ChainMapper): an event is
# encoded once, and the store keeps the very bytes its hash covers. Bounded: the events of refused
# commands are never stored, and are forgotten when it fills.
_encoded: dict[int, tuple[Any, bytes]] = {}
_MAX_ENCODED = 4096


def new_event_hash(event: Any) -> str:
    """The hash of an event a command just triggered (as :func:`event_hash`), keeping the bytes
    hashed for the store, which stores exactly those (:meth:`ChainMapper.to_stored_event`)."""
    cls = type(event)
    originator_id, version, encoded = _stored_form(cls, event.__dict__)
    if len(_encoded) >= _MAX_ENCODED:
        _encoded.clear()
    _encoded[id(event)] = (event, encoded)
    return stored_event_hash(get_topic(cls), originator_id, version, encoded)


def event_hash(topic: str, event_state: dict[str, Any]) -> str:
    """The hash of an event object (what the writer computes), equal to
    :func:`stored_event_hash` of the row the store keeps for it: the stored row's own hash for
    an event read back in an older shape and upcast (:class:`ChainMapper`)."""
    stored = event_state.get(STORED_HASH)
    if stored is not None:
        return str(stored)
    originator_id, version, encoded = _stored_form(resolve_topic(topic), event_state)
    return stored_event_hash(topic, originator_id, version, encoded)


def _stored_form(cls: type, event_state: dict[str, Any]) -> tuple[Any, int, bytes]:
    """The id, version and state bytes the store keeps for an event of ``cls``: its fields
    encoded, then, as ``Mapper.to_stored_event`` writes it, ``class_version`` from version 2 on."""
    state = dict(event_state)
    originator_id = state.pop("originator_id")
    version = state.pop("originator_version")
    class_version = getattr(cls, "class_version", 1)
    if class_version > 1:
        state["class_version"] = class_version
    return originator_id, version, _transcoder.encode(state)


class ChainMapper(Mapper[UUID]):
    """The library's mapper, except that an event of a class whose shape changed keeps the hash
    of the row it was read from (:data:`STORED_HASH`), which its successor names as
    ``prev_hash``. Events of classes never changed are hashed from their fields only when a
    command chains to them, as before: a replay hashes nothing.

    Reading an event does what the library's ``Mapper.to_domain_event`` does (decode, id,
    version, upcasts, an event object over the state) with what depends only on the topic (the
    class, its version, its id conversion) found once per topic, not once per event: every load
    and every replay reads each stored event through here (README, "Performance": rebuild).
    With a cipher or a compressor, which this registry does not configure, the library reads."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._classes: dict[tuple[str, Hashable], tuple[type, int, Any]] = {}

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        kept = _encoded.pop(id(domain_event), None)
        if kept is None or kept[0] is not domain_event or self.compressor or self.cipher:
            return super().to_stored_event(domain_event)
        # The bytes the event's hash was computed from (new_event_hash): the library's encoding of
        # the same state with the same transcoder, done once.
        return StoredEvent(originator_id=domain_event.originator_id, originator_version=domain_event.originator_version,
                           topic=get_topic(type(domain_event)), state=kept[1])

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        if self.cipher or self.compressor:
            domain_event = super().to_domain_event(stored_event)
            if getattr(type(domain_event), "class_version", 1) > 1:
                domain_event.__dict__[STORED_HASH] = stored_event_hash(
                    stored_event.topic, stored_event.originator_id, stored_event.originator_version,
                    stored_event.state)
            return domain_event
        topic, originator_id = stored_event.topic, stored_event.originator_id
        id_type = cast("Hashable", type(originator_id))  # as the library passes it
        try:
            cls, class_version, id_convertor = self._classes[topic, id_type]
        except KeyError:
            cls = resolve_topic(topic)
            class_version = getattr(cls, "class_version", 1)
            id_convertor = find_id_convertor(cls, id_type)
            self._classes[topic, id_type] = (cls, class_version, id_convertor)
        try:
            state: dict[str, Any] = self.transcoder.decode(stored_event.state)
        except Exception as e:
            msg = (f"Failed to deserialise state of stored event with topic '{topic}', originator_id "
                   f"'{originator_id}' and originator_version {stored_event.originator_version}: {e}")
            raise MapperDeserialisationError(msg) from e
        state["originator_id"] = id_convertor(originator_id)
        state["originator_version"] = stored_event.originator_version
        from_version = state.pop("class_version", 1)
        while from_version < class_version:
            getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(state)
            from_version += 1
        if class_version > 1:
            state[STORED_HASH] = stored_event_hash(topic, originator_id, stored_event.originator_version,
                                                   stored_event.state)
        domain_event = object.__new__(cls)
        object.__setattr__(domain_event, "__dict__", state)
        return domain_event

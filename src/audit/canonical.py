"""Recompute an event's chain hash from its stored bytes, fast, without building domain objects.

:func:`aggregates.hashing.event_hash` hashes the canonical form of a *decoded* event: the
writer computes it from the event object, the verifier must get the same digest from the stored
row. Going through ``app.mapper.to_domain_event`` and then canonicalising works but costs more
than everything else the verifier does. So :class:`EventCanonicaliser` parses the stored JSON
once with an ``object_hook`` that turns each typed value (``{"_type_": name, "_data_": ...}``)
straight into its canonical form: exactly how ``hashing.canonical_bytes`` encodes
``transcoding.decode(data)``.
The result is the canonical document, to which the row's id, version and topic are added.

Equivalence with the mapper path is tested on every event type
(tests/test_audit_history.py). An event class with ``class_version > 1`` (upcasting) takes the
mapper path, because only the class knows how to upcast.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, Callable
from uuid import UUID

from eventsourcing.utils import resolve_topic

from aggregates.hashing import canonical_bytes
from aggregates.values import Role

from .rows import StoredRow

__all__ = ["EventCanonicaliser", "UndecodableEvent"]

_UTC = timezone.utc
_dumps = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode
_sha256 = hashlib.sha256


class UndecodableEvent(Exception):
    """A stored row that the application could not turn back into an event."""


def _canonical_value(value: Any) -> Any:
    """A decoded value in the canonical form ``aggregates.hashing`` encodes it in."""
    return json.loads(canonical_bytes("", {"v": value}))["v"]


def _datetime(data: Any) -> str:
    return datetime.fromisoformat(data).astimezone(_UTC).isoformat()


def _date(data: Any) -> str:
    return date.fromisoformat(data).isoformat()


def _decimal(data: Any) -> str:
    return str(Decimal(data))


def _uuid(data: Any) -> str:
    if not isinstance(data, str):
        raise TypeError("uuid data must be a string")
    return str(UUID(data))


def _act(data: Any) -> dict[str, Any]:
    # Act.from_dict normalisation followed by _canonical(asdict(act)), without the deep copies
    # of dataclasses.asdict.
    return {
        "actor_id": str(data["actor_id"]),
        "role": Role(data["role"]).value,
        "business_date": date.fromisoformat(str(data["business_date"])).isoformat(),
        "document_refs": [str(r) for r in (data.get("document_refs", ()) or ())],
    }


_FAST: dict[str, Callable[[Any], Any]] = {
    "datetime_iso": _datetime, "date_iso": _date, "decimal_str": _decimal, "uuid_hex": _uuid, "act": _act,
}


class EventCanonicaliser:
    """Turns stored rows into (canonical document, chain hash) the way the writer hashed them."""

    def __init__(self, app: Any) -> None:
        self._app = app
        transcoder = app.mapper.transcoder
        self._converters: dict[str, Callable[[Any], Any]] = {}
        for name, transcoding in transcoder.names.items():
            fast = _FAST.get(name)
            if fast is not None and type(transcoding).decode is _registered_decode(name, transcoding):
                self._converters[name] = fast
            else:
                self._converters[name] = lambda data, t=transcoding: _canonical_value(t.decode(data))
        self._decoder = json.JSONDecoder(object_hook=self._hook)
        self._topics: dict[str, bool] = {}  # topic -> may use the fast path
        self._plain = app.mapper.cipher is None and app.mapper.compressor is None

    def _hook(self, d: dict[str, Any]) -> Any:
        if len(d) == 2 and "_type_" in d and "_data_" in d:
            try:
                convert = self._converters[d["_type_"]]
            except (KeyError, TypeError):
                raise UndecodableEvent(f"unknown stored type {d['_type_']!r}") from None
            return convert(d["_data_"])
        return d

    def _fast_ok(self, topic: str) -> bool:
        ok = self._topics.get(topic)
        if ok is None:
            try:
                cls = resolve_topic(topic)
            except Exception as exc:  # noqa: BLE001 - an unknown topic is a finding, not a crash
                raise UndecodableEvent(f"unknown event topic {topic!r}: {exc}") from None
            ok = self._plain and getattr(cls, "class_version", 1) == 1
            self._topics[topic] = ok
        return ok

    def document(self, row: StoredRow) -> dict[str, Any]:
        """The canonical document of a stored row (what ``canonical_bytes`` encodes)."""
        if row.state is None or row.topic is None:
            raise UndecodableEvent("the stored row has no topic or no state")
        if not self._fast_ok(row.topic):
            return self._via_mapper(row)
        try:
            doc = self._decoder.decode(row.state.decode("utf-8"))
        except UndecodableEvent:
            raise
        except Exception as exc:  # noqa: BLE001 - any decoding error is reported per row
            raise UndecodableEvent(f"{type(exc).__name__}: {exc}") from None
        if not isinstance(doc, dict):
            raise UndecodableEvent("the stored state is not a JSON object")
        doc.pop("class_version", None)  # the mapper pops it too (it only drives upcasting)
        try:
            doc["originator_id"] = str(UUID(row.originator_id))
        except ValueError:
            raise UndecodableEvent(f"originator id {row.originator_id!r} is not a UUID") from None
        doc["originator_version"] = row.version
        doc["topic"] = row.topic
        return doc

    def hash(self, row: StoredRow) -> str:
        """The chain hash of a stored row: equal to ``event_hash(topic, event.__dict__)``."""
        return _sha256(_dumps(self.document(row)).encode()).hexdigest()

    def _via_mapper(self, row: StoredRow) -> dict[str, Any]:
        from eventsourcing.persistence import StoredEvent

        try:
            event = self._app.mapper.to_domain_event(
                StoredEvent(UUID(row.originator_id), row.version, row.topic, row.state))
        except Exception as exc:  # noqa: BLE001
            raise UndecodableEvent(f"{type(exc).__name__}: {exc}") from None
        return json.loads(canonical_bytes(row.topic, event.__dict__))


def _registered_decode(name: str, transcoding: Any) -> Any:
    """The decode function a fast converter stands in for: only the stock transcodings (or our
    own in aggregates.transcodings) are replaced; an operator's substitute keeps its own."""
    from eventsourcing.persistence import DatetimeAsISO, DecimalAsStr, UUIDAsHex

    from aggregates.transcodings import ActAsDict, DateAsISO

    stock = {"datetime_iso": DatetimeAsISO, "date_iso": DateAsISO, "decimal_str": DecimalAsStr,
             "uuid_hex": UUIDAsHex, "act": ActAsDict}
    return stock[name].decode

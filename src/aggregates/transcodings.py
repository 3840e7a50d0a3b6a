"""How the domain's value types are stored: dates as ISO strings, acts as plain mappings."""

from __future__ import annotations

from datetime import date
from typing import Any

from eventsourcing.persistence import DatetimeAsISO, DecimalAsStr, JSONTranscoder, Transcoding, UUIDAsHex

from .values import Act


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class ActAsDict(Transcoding):
    type = Act
    name = "act"
    # Acts repeat: a clerk records many acts on one day under one document, and every load and
    # rebuild decodes each stored act again. An Act is immutable, so equal ones are decoded once
    # and shared (a bounded memo, emptied when full).
    MEMO_SIZE = 65_536

    def __init__(self) -> None:
        self._decoded: dict[tuple[Any, ...], Act] = {}

    def encode(self, obj: Act) -> dict[str, Any]:
        return obj.to_dict()

    def decode(self, data: dict[str, Any]) -> Act:
        try:
            recorder = data.get("recorded_by") or None
            key = (data["actor_id"], data["role"], data["business_date"], tuple(data.get("document_refs") or ()),
                   recorder and (recorder["actor_id"], recorder["role"]))
            act = self._decoded.get(key)
        except (KeyError, TypeError):  # malformed: let from_dict say what is wrong
            return Act.from_dict(data)
        if act is None:
            act = Act.from_dict(data)
            if len(self._decoded) >= self.MEMO_SIZE:
                self._decoded.clear()
            self._decoded[key] = act
        return act


class RegistryTranscoder(JSONTranscoder):
    """Finds a transcoding by the object's class or, failing that, its nearest registered base
    class, so a ``datetime`` subclass (as freezegun makes) is stored as a ``datetime``."""

    def _encode_obj(self, o: Any) -> dict[str, Any]:
        if type(o) not in self.types:
            for base in type(o).__mro__[1:]:
                transcoding = self.types.get(base)
                if transcoding is not None:
                    return {"_type_": transcoding.name, "_data_": transcoding.encode(o)}
        return super()._encode_obj(o)


def make_transcoder() -> RegistryTranscoder:
    """The one encoding of events: the library's defaults plus the domain's value types. The
    application stores events with it and the hash chain hashes its output."""
    transcoder = RegistryTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO(), DateAsISO(), ActAsDict()):
        transcoder.register(transcoding)
    return transcoder

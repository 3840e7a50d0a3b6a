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

    def encode(self, obj: Act) -> dict[str, Any]:
        return obj.to_dict()

    def decode(self, data: dict[str, Any]) -> Act:
        return Act.from_dict(data)


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

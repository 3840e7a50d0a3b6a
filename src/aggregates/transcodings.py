"""How the domain's value types are stored: dates as ISO strings, acts as plain mappings."""

from __future__ import annotations

from datetime import date
from typing import Any

import msgspec
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
    class, so a ``datetime`` subclass (as freezegun makes) is stored as a ``datetime``.

    Decodes with msgspec's JSON parser, then revives the ``{"_type_", "_data_"}`` objects in one
    walk, where the library's ``json`` decoder calls a Python hook for every object: every load
    and every replay decodes each stored event (README, "Performance": rebuild). msgspec returns
    what ``json.loads`` returns (integers of any size included) or refuses; what it refuses and
    ``json`` reads (``NaN``, a lone surrogate, which this encoder never writes) is left to the
    library's decoder, so nothing stored decodes differently."""

    def __init__(self) -> None:
        super().__init__()
        self._parse = msgspec.json.Decoder().decode
        self._decoders: dict[str, Any] = {}  # name: its transcoding's decode, as registered
        self._revive_dict, self._revive_list = _revivers(self._decoders, self._decode_obj)

    def register(self, transcoding: Transcoding) -> None:
        super().register(transcoding)
        self._decoders[transcoding.name] = transcoding.decode

    def decode(self, data: bytes) -> Any:
        try:
            value = self._parse(data)
        except msgspec.DecodeError:
            return super().decode(data)
        kind = type(value)
        return self._revive_dict(value) if kind is dict else self._revive_list(value) if kind is list else value

    def _encode_obj(self, o: Any) -> dict[str, Any]:
        if type(o) not in self.types:
            for base in type(o).__mro__[1:]:
                transcoding = self.types.get(base)
                if transcoding is not None:
                    return {"_type_": transcoding.name, "_data_": transcoding.encode(o)}
        return super()._encode_obj(o)


def _revivers(decoders: dict[str, Any], unknown: Any) -> tuple[Any, Any]:
    """Functions (for an object, for an array) that decode every transcoded object
    (``{"_type_": name, "_data_": data}``) in a parsed JSON value, innermost first, as the
    library's object hook would. A replay calls them for every object of every event, so they
    are closures over ``decoders`` (name: decode function), and an object's transcoded members
    (most of what an event holds: its time, act and dates) are decoded in its own loop, without
    a call each: 5.5 against 6.3 µs an event (README, "Performance": rebuild). A name not in
    ``decoders`` goes to ``unknown`` (the library's hook, which refuses it as it always has)."""

    def decoded(obj: dict[str, Any], data: Any) -> Any:
        decode = decoders.get(obj["_type_"])
        return unknown(obj) if decode is None else decode(data)

    def revive(item: Any) -> Any:
        """A container's member: revived, and decoded if it is a transcoded object."""
        if type(item) is list:
            return revive_list(item)
        if len(item) == 2 and "_type_" in item and "_data_" in item:
            data = item["_data_"]
            kind = type(data)
            if kind is dict or kind is list:
                data = revive(data)
            return decoded(item, data)
        return revive_dict(item)

    def revive_dict(d: dict[str, Any]) -> Any:
        for key, item in d.items():
            kind = type(item)
            if kind is dict:
                if len(item) == 2 and "_type_" in item and "_data_" in item:
                    data = item["_data_"]
                    kind = type(data)
                    d[key] = decoded(item, revive(data) if kind is dict or kind is list else data)
                else:
                    d[key] = revive_dict(item)
            elif kind is list:
                d[key] = revive_list(item)
        if len(d) == 2 and "_type_" in d and "_data_" in d:  # the members are revived: decode
            return decoded(d, d["_data_"])
        return d

    def revive_list(items: list[Any]) -> list[Any]:
        for i, item in enumerate(items):
            kind = type(item)
            if kind is dict or kind is list:
                items[i] = revive(item)
        return items

    return revive_dict, revive_list


def make_transcoder() -> RegistryTranscoder:
    """The one encoding of events: the library's defaults plus the domain's value types. The
    application stores events with it and the hash chain hashes its output."""
    transcoder = RegistryTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO(), DateAsISO(), ActAsDict()):
        transcoder.register(transcoding)
    return transcoder

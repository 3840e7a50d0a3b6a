"""Idempotency keys as records in the event store.

A command sent with an ``Idempotency-Key`` saves, in the same transaction as its effects, a
record whose id derives from the caller and the key. A retry finds the record and is answered
with the first result; two racing requests with one key cannot both commit.
"""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from .recorded import RecordedAggregate
from .values import Act

T = "platform-registry/IdempotencyRecord"


class IdempotencyRecord(RecordedAggregate):
    TOPIC = T

    class Event(RecordedAggregate.Event):
        TOPIC = f"{T}/Event"

    @staticmethod
    def create_id(actor_id: str, key: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"platform-registry:idempotency:{actor_id}:{key}")

    @classmethod
    def record(
        cls, actor_id: str, key: str, fingerprint: str, command: str, target_id: UUID,
        target_version: int, result: dict, act: Act,
    ) -> IdempotencyRecord:
        return cls._create_recorded(
            cls.Used, act=act, actor_id=actor_id, key=key, fingerprint=fingerprint, command=command,  # type: ignore[attr-defined]  # the event class @event makes
            target_id=str(target_id), target_version=target_version, result=result,
        )

    @event("Used", topic=f"{T}/Used")
    def __init__(
        self, actor_id: str, key: str, fingerprint: str, command: str, target_id: str,
        target_version: int, result: dict, act: Act,
    ) -> None:
        self.actor_id = actor_id
        self.key = key
        self.fingerprint = fingerprint
        self.command = command
        self.target_id = target_id
        self.target_version = target_version
        self.result = result

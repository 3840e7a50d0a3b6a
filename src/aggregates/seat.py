"""The subfield seat (细分领域席位): Art. 5's "one platform per subfield, in principle".

One seat aggregate per subfield, with a deterministic id, is saved in the same transaction as
the platform it admits or frees. Two concurrent approvals in one subfield both read the seat at
the same version; the store's uniqueness of (id, version) lets exactly one of them commit.
"""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from .errors import RuleViolation
from .recorded import RecordedAggregate
from .values import Act

T = "platform-registry/SubfieldSeat"


class SubfieldSeat(RecordedAggregate):
    """Who holds a subfield from approval on, and who was admitted by a recorded exception."""

    TOPIC = T
    monotonic_business_dates = False  # acts of different platforms arrive back-filled, out of order

    class Event(RecordedAggregate.Event):
        TOPIC = f"{T}/Event"

    @staticmethod
    def create_id(subfield: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"platform-registry:subfield:{subfield}")

    @classmethod
    def open(cls, subfield: str, act: Act) -> SubfieldSeat:
        return cls._create_recorded(cls.Opened, act=act, subfield=subfield)  # type: ignore[attr-defined]  # the event class @event makes

    @event("Opened", topic=f"{T}/Opened")
    def __init__(self, subfield: str, act: Act) -> None:
        self.subfield = subfield
        self.holder: str | None = None
        self.exception_holders: list[str] = []

    def occupy(self, platform_id: UUID, exception: str | None, policy_ref: str, act: Act) -> None:
        """Art. 5: a second platform in a held subfield is refused unless the bureau records an
        exception with a written justification (the regulation says 原则上, "in principle")."""
        self.check_act(act)
        pid = str(platform_id)
        if self.holder is None and exception and exception.strip():
            # An exception nobody needed would show auditors an Art. 5 departure that never was.
            raise RuleViolation(
                "exception_not_needed",
                f"the subfield '{self.subfield}' is free; approve without a subfield exception",
                "Art. 5",
                policy_ref, params={"subfield": self.subfield},
            )
        if self.holder is None:
            self._occupied(platform_id=pid, exception=None, act=act)
        elif exception and exception.strip():
            self._occupied(platform_id=pid, exception=exception.strip(), act=act)
        else:
            raise RuleViolation(
                "subfield_taken",
                f"the subfield '{self.subfield}' is already held by platform {self.holder}; one "
                "platform per subfield in principle, unless the approval records a written exception",
                "Art. 5",
                policy_ref, params={"subfield": self.subfield, "holder": self.holder},
            )

    @event("Occupied", topic=f"{T}/Occupied")
    def _occupied(self, platform_id: str, exception: str | None, act: Act) -> None:
        if exception is None:
            self.holder = platform_id
        else:
            self.exception_holders.append(platform_id)

    def release(self, platform_id: UUID, act: Act) -> None:
        """Art. 5: a withdrawn, rejected, terminated or revoked platform frees its subfield."""
        self.check_act(act)
        pid = str(platform_id)
        if pid == self.holder or pid in self.exception_holders:
            self._released(platform_id=pid, act=act)

    @event("Released", topic=f"{T}/Released")
    def _released(self, platform_id: str, act: Act) -> None:
        if platform_id == self.holder:
            # An exception holder, admitted beside the holder, becomes the ordinary holder.
            self.holder = self.exception_holders.pop(0) if self.exception_holders else None
        else:
            self.exception_holders.remove(platform_id)

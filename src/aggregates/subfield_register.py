"""The register of subfields admitted under a policy (增列细分领域): Art. 4's "等".

Art. 4 lists 18 subfields and ends its list with "等" (and others): the bureau may admit a
subfield beyond the list. It does so by a decision with a document (文号), recorded here as an
event, never by editing the policy file, which restates the regulation as published. One register
per policy version, with a deterministic id; an application reads its policy's register in the
same unit of work, so it sees every admission saved before it. Once admitted, a subfield is like
the listed ones: applied for by name, one platform per subfield (Art. 5, its own seat).
"""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from .errors import InvalidInput, RuleViolation
from .policy import Policy, subfield_key
from .recorded import RecordedAggregate
from .values import Act

T = "platform-registry/SubfieldRegister"


class SubfieldRegister(RecordedAggregate):
    """The subfields the bureau admitted under one policy version, in the order it did."""

    TOPIC = T
    # Decisions are recorded from the paper files, not necessarily in the order they were taken.
    monotonic_business_dates = False

    class Event(RecordedAggregate.Event):
        TOPIC = f"{T}/Event"

    @staticmethod
    def create_id(policy_ref: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"platform-registry:subfield-register:{policy_ref}")

    @classmethod
    def open(cls, policy_ref: str, act: Act) -> SubfieldRegister:
        return cls._create_recorded(cls.Opened, act=act, policy_ref=policy_ref)  # type: ignore[attr-defined]  # the event class @event makes

    @event("Opened", topic=f"{T}/Opened")
    def __init__(self, policy_ref: str, act: Act) -> None:
        self.policy_ref = policy_ref
        self.admitted: dict[str, dict[str, Any]] = {}

    @property
    def names(self) -> tuple[str, ...]:
        """The admitted subfields' names, in the order they were admitted."""
        return tuple(self.admitted)

    def admit(self, policy: Policy, name: str, reasons: str, act: Act) -> str:
        """Art. 4: the bureau admits ``name`` as a subfield of ``policy`` by a decision whose
        document reference (文号) the act carries; a subfield already listed (by the policy or an
        earlier decision, in any spelling) is refused. Returns the name as it is kept."""
        self.check_act(act)
        if not act.document_refs:
            raise InvalidInput("reference_required", "the decision's document_ref is required", "document_ref")
        kept = subfield_key(name)
        if not kept:
            raise InvalidInput("subfield_name_required", "the subfield's name is required", "name")
        listed = policy.listed_subfield(kept, self.names)
        if listed is not None:
            raise RuleViolation(
                "subfield_already_listed",
                f"the subfield '{listed}' is already a subfield of {policy.policy}",
                "Art. 4", policy.policy, params={"subfield": listed, "policy": policy.policy},
            )
        self._admitted(subfield=kept, reasons=reasons.strip(), act=act)
        return kept

    @event("SubfieldAdmitted", topic=f"{T}/SubfieldAdmitted")
    def _admitted(self, subfield: str, reasons: str, act: Act) -> None:
        self.admitted[subfield] = {"subfield": subfield, "reasons": reasons, "document_ref": act.document_refs[0],
                                   "admitted_on": act.business_date}


__all__ = ["SubfieldRegister"]

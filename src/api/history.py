"""A platform's events in order, as ``GET /platforms/{id}/history`` shows them."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from aggregates.application import RegistryApp
from aggregates.hashing import STORED_HASH, event_hash
from projections.views import jsonable

_ENVELOPE = {"originator_id", "originator_version", "timestamp", "act", "prev_hash", STORED_HASH}
# The objector's identity is shown to the bureau and auditors, never to the host unit.
_PRIVATE = {"objector_name", "contact"}


def event_row(event: Any, redact_objectors: bool = False) -> dict[str, Any]:
    state = event.__dict__
    act = state.get("act")
    data = {k: v for k, v in state.items() if k not in _ENVELOPE}
    if redact_objectors:
        data = {k: ("(withheld)" if k in _PRIVATE else v) for k, v in data.items()}
    return {
        "sequence": event.originator_version,
        "type": type(event).__name__,
        "recorded_at": event.timestamp.isoformat(),
        "business_date": act.business_date.isoformat() if act is not None else None,
        "actor": act.actor_id if act is not None else None,
        "role": act.role.value if act is not None else None,
        # The clerk who keyed in someone else's paper act (an application handed in at the
        # window, a meeting's score sheets, a posted objection); null for an act recorded by its actor.
        "recorded_by": act.recorded_by.to_dict() if act is not None and act.recorded_by is not None else None,
        "document_refs": list(act.document_refs) if act is not None else [],
        "data": jsonable(data),
        "hash": event_hash(get_topic(type(event)), state),
        "prev_hash": state.get("prev_hash"),
    }


def history(app: RegistryApp, platform_id: UUID, redact_objectors: bool = False) -> list[dict[str, Any]]:
    app.get_platform(platform_id)  # 404 for an unknown id or another kind of aggregate
    return [event_row(e, redact_objectors) for e in app.events.get(platform_id)]

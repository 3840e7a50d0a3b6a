"""Reconciling the funding ledger with the events (资金台账对账), to the fen.

:func:`ledger_from_events` sums the money facts straight from the event log — without the
projection's code or tables — so finance (and the tests) can prove the ledger's totals.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from eventsourcing.application import Application

from .projector import RELEASE_EVENTS
from .queries import LEDGER_KINDS, ledger_totals_fen
from .runner import log_batches

ZERO = Decimal("0.00")
_PLATFORM = "platform-registry/Platform/"


def ledger_from_events(app: Application, chunk: int = 5000) -> dict[str, Decimal]:
    """Totals per kind (``committed``, ``released``, ``disbursed``, ``recovered``) and
    ``outstanding_commitments`` from the log: Approved.funding_committed (Art. 8(5)), the
    released_amount of Withdrawn / ApprovalRescinded / Terminated / Revoked, Funded.amount
    (Art. 9(3)) and FundsRecovered.amount (Art. 13)."""
    totals = {"committed": ZERO, "released": ZERO, "disbursed": ZERO, "recovered": ZERO}
    for batch in log_batches(app, 0, chunk):
        for n in batch:
            if not n.topic.startswith(_PLATFORM):
                continue
            name = n.topic.rsplit("/", 1)[1]
            if name not in RELEASE_EVENTS and name not in {"Approved", "Funded", "FundsRecovered"}:
                continue
            e: Any = app.mapper.to_domain_event(n)
            if name == "Approved":
                totals["committed"] += e.funding_committed
            elif name in RELEASE_EVENTS:
                totals["released"] += e.released_amount
            elif name == "Funded":
                totals["disbursed"] += e.amount
            else:
                totals["recovered"] += e.amount
    totals["outstanding_commitments"] = totals["committed"] - totals["released"] - totals["disbursed"]
    return totals


def reconcile(app: Application, conn: Any) -> dict[str, Any]:
    """Compare the ledger's SQL totals with :func:`ledger_from_events`: ``ok`` when every kind
    agrees to the fen, with both sides for the report."""
    from_events = ledger_from_events(app)
    fen = ledger_totals_fen(conn)
    names = dict(zip(LEDGER_KINDS, ("committed", "released", "disbursed", "recovered"), strict=True))
    from_ledger = {names[k]: Decimal(v) / 100 for k, v in fen.items()}
    from_ledger["outstanding_commitments"] = (from_ledger["committed"] - from_ledger["released"]
                                              - from_ledger["disbursed"])
    ok = all(from_ledger[k] == from_events[k] for k in from_events)
    return {"ok": ok, "events": {k: str(v.quantize(Decimal("0.01"))) for k, v in from_events.items()},
            "ledger": {k: str(v.quantize(Decimal("0.01"))) for k, v in from_ledger.items()}}


__all__ = ["ledger_from_events", "reconcile"]

"""Sealing a log written before the log seal existed (an upgrade, done once).

A store whose events were all written by an earlier version of the registry has an empty seal:
the verifier reports every event as unsealed. The designated signer seals such a log at
start-up, once, and only when the log verifies in every other respect (chains, versions, every
signed checkpoint) and every one of its events is unsealed: a partly sealed log means events were
written behind the application's back, which is reported, never sealed over. The seal is
written in one transaction holding the writers' lock, after re-counting the log, so no write can
slip in between the count and the seal (:func:`aggregates.log_seal.seal_existing`).
"""

from __future__ import annotations

from typing import Any

from aggregates.event_table import event_table

from .verify import VerifyReport

__all__ = ["needs_sealing", "seal_existing_log"]


def needs_sealing(report: VerifyReport) -> bool:
    """Whether ``report`` shows an intact log none of whose events is sealed."""
    return (report.events_checked > 0 and report.failure_count == report.events_checked
            and all(f.code == "event_unsealed" for f in report.failures))


def seal_existing_log(app: Any, expected: int, sealed_at: str) -> int:
    """Seal the ``expected`` events of a log whose seal is empty; returns how many were sealed
    (0 when the log or its seal changed since it was verified: nothing is written then)."""
    return event_table(app).seal_unsealed(expected, sealed_at)

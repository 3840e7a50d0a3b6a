"""The audit's own tables beside the event table: ``audit_checkpoints`` and ``audit_cosignatures``.

They live in the same database (and PostgreSQL schema) as the events, so one backup holds the
log and every statement made about it. The migrations create them (:mod:`aggregates.migrations`,
branch ``store``); :data:`audit.table_metadata.METADATA` declares them as the code reads and
writes them, through plain SQL in a transaction beside the events
(:meth:`aggregates.event_table.EventTable.beside`).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from aggregates.event_table import Beside, event_table

__all__ = ["CHECKPOINTS", "COSIGNATURES", "transaction"]

CHECKPOINTS = "audit_checkpoints"
COSIGNATURES = "audit_cosignatures"


def transaction(app: Any) -> AbstractContextManager[Beside]:
    """A transaction on the audit's tables of ``app``'s store, committed when it ends without an
    exception (a read commits nothing)."""
    return event_table(app).beside()

"""The audit's own tables beside the event table: ``audit_checkpoints`` and ``audit_cosignatures``.

They live in the same database (and PostgreSQL schema) as the events, so one backup holds the
log and every statement made about it. They are created on first use and brought up to date
on a store whose ``audit_checkpoints`` predates a column (``origin`` and ``note_signature``
came with the C2SP signed notes), once per application instance, in a transaction of its own,
before the first read or write (:meth:`aggregates.event_table.EventTable.beside`).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from aggregates.event_table import Beside, TableSet, event_table

__all__ = ["CHECKPOINTS", "COSIGNATURES", "transaction"]

CHECKPOINTS = "audit_checkpoints"
COSIGNATURES = "audit_cosignatures"

AUDIT_TABLES = TableSet(
    tables=(
        (CHECKPOINTS, "id {id}, size {integer} NOT NULL, root {text} NOT NULL, signed_at {text} NOT NULL, "
                      "key_id {text} NOT NULL, signature {text} NOT NULL"),
        (COSIGNATURES, "id {id}, origin {text} NOT NULL, size {integer} NOT NULL, root {text} NOT NULL, "
                       "witness {text} NOT NULL, key_name {text} NOT NULL, key_id {text} NOT NULL, "
                       "timestamp {integer} NOT NULL, signature {text} NOT NULL, received_at {text} NOT NULL, "
                       "UNIQUE (origin, size, root, key_name, key_id)"),
    ),
    # Columns added after the table was first released, in order.
    added=((CHECKPOINTS, "origin", "{text}"), (CHECKPOINTS, "note_signature", "{text}")),
)


def transaction(app: Any) -> AbstractContextManager[Beside]:
    """A transaction on the audit's tables of ``app``'s store, committed when it ends without an
    exception (a read commits nothing)."""
    return event_table(app).beside(AUDIT_TABLES)

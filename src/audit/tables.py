"""The audit's own tables beside the event table: ``audit_checkpoints`` and ``audit_cosignatures``.

They live in the same database (and PostgreSQL schema) as the events, so one backup holds the
log and every statement made about it. The migrations create them (:mod:`aggregates.migrations`,
branch ``store``); :data:`METADATA` declares them as the code reads and writes them, through
plain SQL in a transaction beside the events (:meth:`aggregates.event_table.EventTable.beside`).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

import sqlalchemy as sa

from aggregates.event_table import Beside, event_table

__all__ = ["CHECKPOINTS", "COSIGNATURES", "METADATA", "transaction"]

CHECKPOINTS = "audit_checkpoints"
COSIGNATURES = "audit_cosignatures"

# 64-bit integers: bigint on PostgreSQL (bigserial for a key), INTEGER on SQLite, where an
# INTEGER PRIMARY KEY is the rowid (AUTOINCREMENT: an id is never reused).
_BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

METADATA = sa.MetaData()
sa.Table(
    CHECKPOINTS, METADATA,
    sa.Column("id", _BIG, primary_key=True, autoincrement=True),
    sa.Column("size", _BIG, nullable=False), sa.Column("root", sa.Text, nullable=False),
    sa.Column("signed_at", sa.Text, nullable=False), sa.Column("key_id", sa.Text, nullable=False),
    sa.Column("signature", sa.Text, nullable=False),
    # The C2SP signed note's origin line and signature (null on checkpoints signed before them).
    sa.Column("origin", sa.Text), sa.Column("note_signature", sa.Text),
    sqlite_autoincrement=True,
)
sa.Table(
    COSIGNATURES, METADATA,
    sa.Column("id", _BIG, primary_key=True, autoincrement=True),
    sa.Column("origin", sa.Text, nullable=False), sa.Column("size", _BIG, nullable=False),
    sa.Column("root", sa.Text, nullable=False), sa.Column("witness", sa.Text, nullable=False),
    sa.Column("key_name", sa.Text, nullable=False), sa.Column("key_id", sa.Text, nullable=False),
    sa.Column("timestamp", _BIG, nullable=False), sa.Column("signature", sa.Text, nullable=False),
    sa.Column("received_at", sa.Text, nullable=False),
    # A witness's cosignature of one tree head is kept once, however often it is sent.
    sa.UniqueConstraint("origin", "size", "root", "key_name", "key_id"),
    sqlite_autoincrement=True,
)


def transaction(app: Any) -> AbstractContextManager[Beside]:
    """A transaction on the audit's tables of ``app``'s store, committed when it ends without an
    exception (a read commits nothing)."""
    return event_table(app).beside()

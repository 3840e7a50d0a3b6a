"""The audit's tables (:mod:`audit.tables`) declared with SQLAlchemy, as the migrations make
them (``tests/test_migrations.py`` compares the two). Apart from :mod:`audit.tables`, which the
verifier imports, so that reading the tables never imports SQLAlchemy.
"""

from __future__ import annotations

import sqlalchemy as sa

from .tables import CHECKPOINTS, COSIGNATURES

__all__ = ["METADATA"]

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

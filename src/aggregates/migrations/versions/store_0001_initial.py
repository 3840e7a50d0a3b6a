"""The tables kept with the events, as released before migrations.

Accounts, the login throttle, audit checkpoints and cosignatures, the write probe, the shared
objection rate limit.

On SQLite they live in the event file, on PostgreSQL in the store's schema. A store from before
migrations already has some of them (each was created on first use): those are kept, given the
columns older releases lacked, and the rest created, so that ``platforms migrate`` adopts such a
store instead of failing on a table that exists.

Migrations go forward only (no ``downgrade``): accounts and the audit's statements are records
that no schema change may drop; going back means restoring a backup.

Revision ID: store0001
Revises: (none; the first of the ``store`` branch)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "store0001"
down_revision = None
branch_labels = ("store",)
depends_on = None

# An integer key assigned in order: BIGSERIAL on PostgreSQL, INTEGER PRIMARY KEY AUTOINCREMENT on
# SQLite (which needs the type spelt INTEGER to make the column the rowid).
BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _tables() -> list[sa.Table]:
    md = sa.MetaData()
    c = sa.Column
    tz = sa.DateTime(timezone=True)
    return [
        sa.Table("users", md,
                 c("id", sa.Integer, primary_key=True, autoincrement=True),
                 c("username", sa.String(64), nullable=False, unique=True),
                 c("role", sa.String(32), nullable=False),
                 c("credit_code", sa.String(18), nullable=True),
                 c("password_hash", sa.String(255), nullable=False),
                 c("created_at", tz, nullable=False),
                 c("token_version", sa.Integer, nullable=False, server_default="0"),
                 c("disabled_at", tz, nullable=True),
                 c("last_lockout_at", tz, nullable=True)),
        sa.Table("login_throttle", md,
                 c("subject", sa.String(200), primary_key=True),
                 c("failures", sa.Integer, nullable=False),
                 c("window_start", sa.Float, nullable=False, index=True),
                 c("locked_until", sa.Float, nullable=True),
                 c("locked_at", sa.Float, nullable=True)),
        sa.Table("audit_checkpoints", md,
                 c("id", BIG, primary_key=True, autoincrement=True),
                 c("size", BIG, nullable=False), c("root", sa.Text, nullable=False),
                 c("signed_at", sa.Text, nullable=False), c("key_id", sa.Text, nullable=False),
                 c("signature", sa.Text, nullable=False), c("origin", sa.Text), c("note_signature", sa.Text),
                 sqlite_autoincrement=True),
        sa.Table("audit_cosignatures", md,
                 c("id", BIG, primary_key=True, autoincrement=True),
                 c("origin", sa.Text, nullable=False), c("size", BIG, nullable=False),
                 c("root", sa.Text, nullable=False), c("witness", sa.Text, nullable=False),
                 c("key_name", sa.Text, nullable=False), c("key_id", sa.Text, nullable=False),
                 c("timestamp", BIG, nullable=False), c("signature", sa.Text, nullable=False),
                 c("received_at", sa.Text, nullable=False),
                 sa.UniqueConstraint("origin", "size", "root", "key_name", "key_id"),
                 sqlite_autoincrement=True),
        sa.Table("store_write_probe", md,
                 c("id", sa.Integer, primary_key=True, autoincrement=False), c("at", sa.Text)),
        sa.Table("objection_rate_hits", md,
                 c("key", sa.Text, nullable=False), c("hit_at", sa.Float, nullable=False),
                 sa.Index("objection_rate_hits_key", "key", "hit_at"),
                 sa.Index("objection_rate_hits_at", "hit_at")),
    ]


def _later_columns(table: str) -> tuple[sa.Column, ...]:
    """The columns released after ``table``, in order: a store from before migrations may lack them."""
    if table == "users":
        return (sa.Column("token_version", sa.Integer, nullable=False, server_default="0"),
                sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
                sa.Column("last_lockout_at", sa.DateTime(timezone=True), nullable=True))
    if table == "audit_checkpoints":
        return sa.Column("origin", sa.Text), sa.Column("note_signature", sa.Text)
    return ()


def upgrade() -> None:
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    existing = set(inspector.get_table_names())
    kept = [table.name for table in _tables() if table.name in existing]
    if kept:
        op.get_context().opts["platforms_report"](f"adopting tables from before migrations: {', '.join(kept)}")
    for table in _tables():
        if table.name not in existing:
            table.create(bind)
            continue
        have = {col["name"] for col in inspector.get_columns(table.name)}
        for column in _later_columns(table.name):
            if column.name not in have:
                op.add_column(table.name, column)
        for index in table.indexes:
            op.create_index(index.name, table.name, [col.name for col in index.columns], if_not_exists=True)


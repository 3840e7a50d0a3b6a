"""The read models' tables, as released before migrations.

The models' positions, the runner's recorded failures, and each model's tables with their
indexes; every model starts at position 0.

On SQLite they live in the read-model file, on PostgreSQL in the store's schema beside the events.
A store from before migrations already has them: a model whose tables are all there with every
column is kept; one with a table or a column missing is dropped, created anew and set back to
position 0, so the runner refills it from the log (read models lose nothing when rebuilt).
A later revision that changes a model's table may do the same: drop, create, position 0.

Migrations go forward only (no ``downgrade``); going back means restoring a backup and
rebuilding the read models.

Revision ID: read0001
Revises: (none; the first of the ``read_models`` branch)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "read0001"
down_revision = None
branch_labels = ("read_models",)
depends_on = None

MODELS = ("platforms", "publicity", "ledger", "subfields", "deadlines")


def _bookkeeping(md: sa.MetaData) -> tuple[sa.Table, sa.Table]:
    positions = sa.Table("projection_positions", md,
                         sa.Column("name", sa.String(32), primary_key=True),
                         sa.Column("position", sa.BigInteger, nullable=False))
    failures = sa.Table("projection_failures", md,
                        sa.Column("name", sa.String(32), primary_key=True),
                        sa.Column("position", sa.BigInteger, nullable=False),
                        sa.Column("event", sa.Text, nullable=False),
                        sa.Column("reason", sa.Text, nullable=False),
                        sa.Column("failed_at", sa.String(40), nullable=False))
    return positions, failures


def _models(md: sa.MetaData) -> dict[str, list[sa.Table]]:
    c, t = sa.Column, sa.Table
    S, I, B, T, D = sa.String, sa.Integer, sa.BigInteger, sa.Text, sa.Date  # noqa: E741 - column types, one letter each

    def ix(table: str, suffix: str, *cols: str) -> sa.Index:
        return sa.Index(f"ix_{table}_{suffix}", *cols)

    return {
        "platforms": [
            t("rm_platforms", md,
              c("id", S(36), primary_key=True), c("seq", B, nullable=False),
              c("name", T, nullable=False), c("subfield", T, nullable=False),
              c("host_credit_code", S(18), nullable=False), c("host_name", T, nullable=False),
              c("status", S(32), nullable=False), c("version", I, nullable=False),
              c("position", B, nullable=False), c("summary", T, nullable=False),
              c("co_builder_codes", T, nullable=False), c("scored_by", T, nullable=False),
              ix("rm_platforms", "status", "status", "seq"), ix("rm_platforms", "subfield", "subfield", "seq"),
              ix("rm_platforms", "host", "host_credit_code", "seq"), ix("rm_platforms", "seq", "seq")),
            t("rm_platform_objections", md,
              c("platform_id", S(36), primary_key=True), c("objection_no", I, primary_key=True),
              c("received_on", D, nullable=False), c("admissible", sa.Boolean, nullable=False),
              c("outcome", S(16)), c("position", B, nullable=False)),
        ],
        "publicity": [
            t("rm_publicity_batches", md,
              c("batch_id", S(36), primary_key=True), c("seq", B, nullable=False),
              c("batch_ref", T, nullable=False), c("media", T, nullable=False),
              c("start_date", D, nullable=False), c("first_day", D), c("last_day", D),
              c("working_days", I, nullable=False), c("published_on", D, nullable=False),
              ix("rm_publicity_batches", "seq", "seq")),
            t("rm_publicity_entries", md,
              c("batch_id", S(36), primary_key=True), c("platform_id", S(36), primary_key=True),
              c("ord", I, nullable=False), c("name", T, nullable=False), c("host_name", T, nullable=False),
              c("host_credit_code", S(18), nullable=False), c("subfield", T, nullable=False),
              c("policy_ref", T, nullable=False), c("objections", I, nullable=False),
              c("late_objections", I, nullable=False), c("upheld", I, nullable=False),
              c("dismissed", I, nullable=False), c("unresolved", I, nullable=False),
              c("outcome", S(16)),
              ix("rm_publicity_entries", "platform", "platform_id")),
        ],
        "ledger": [
            t("rm_ledger_entries", md,
              c("entry_id", S(32), primary_key=True), c("position", B, nullable=False),
              c("kind", S(16), nullable=False), c("event_type", S(32), nullable=False),
              c("platform_id", S(36), nullable=False), c("originator_version", I, nullable=False),
              c("host_credit_code", S(18), nullable=False), c("host_name", T, nullable=False),
              c("amount_fen", B, nullable=False), c("business_date", D, nullable=False),
              c("fiscal_year", I, nullable=False), c("document_ref", T),
              ix("rm_ledger_entries", "fy", "fiscal_year", "position"),
              ix("rm_ledger_entries", "platform", "platform_id")),
        ],
        "subfields": [
            t("rm_subfield_seats", md,
              c("subfield", T, primary_key=True), c("holder_id", S(36)),
              c("exception_holders", T, nullable=False), c("position", B, nullable=False)),
            t("rm_subfield_history", md,
              c("subfield", T, primary_key=True), c("platform_id", S(36), primary_key=True),
              c("exception", T), c("occupied_on", D, nullable=False), c("occupied_position", B, nullable=False),
              c("released_on", D), c("released_position", B),
              ix("rm_subfield_history", "subfield", "subfield", "occupied_position")),
            t("rm_admitted_subfields", md,
              c("policy_ref", T, primary_key=True), c("subfield", T, primary_key=True),
              c("document_ref", T, nullable=False), c("reasons", T, nullable=False),
              c("admitted_on", D, nullable=False), c("position", B, nullable=False)),
        ],
        "deadlines": [
            t("rm_deadlines", md,
              c("platform_id", S(36), primary_key=True), c("kind", S(32), primary_key=True),
              c("name", T, nullable=False), c("host_name", T, nullable=False),
              c("policy_ref", T, nullable=False), c("basis_date", D, nullable=False),
              c("due_date", D), c("position", B, nullable=False),
              c("missed_on", D), c("late_admitted_on", D),
              ix("rm_deadlines", "due", "due_date")),
        ],
    }


def upgrade() -> None:
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    existing = set(inspector.get_table_names())
    md = sa.MetaData()
    positions, failures = _bookkeeping(md)
    models = _models(md)
    report = op.get_context().opts["platforms_report"]
    kept = [t.name for t in (positions, failures, *(t for ts in models.values() for t in ts)) if t.name in existing]
    if kept:
        report(f"adopting tables from before migrations: {', '.join(kept)}")
    for table in (positions, failures):
        if table.name not in existing:
            table.create(bind)
    for model, tables in models.items():
        if all(t.name in existing and _has_columns(inspector, t) for t in tables):
            for table in tables:
                for index in table.indexes:
                    op.create_index(index.name, table.name, [col.name for col in index.columns], if_not_exists=True)
            continue
        if any(t.name in existing for t in tables):
            report(f"read model {model} lacks a table or a column: recreated empty, the runner refills it from the log")
        for table in tables:
            if table.name in existing:
                op.drop_table(table.name)
            table.create(bind)
        bind.execute(positions.delete().where(positions.c.name == model))
    have = {row[0] for row in bind.execute(sa.select(positions.c.name))}
    missing = [{"name": m, "position": 0} for m in MODELS if m not in have]
    if missing:
        bind.execute(positions.insert(), missing)


def _has_columns(inspector: sa.Inspector, table: sa.Table) -> bool:
    have = {col["name"] for col in inspector.get_columns(table.name)}
    return all(col.name in have for col in table.columns)

"""The read models' tables (读模型表), shaped for their queries and never written by commands.

Every model's tables can be dropped and rebuilt from the event log at any time (a schema change
loses nothing): nothing here is a record of its own. :func:`model_tables` gives a
model's tables under a name suffix, so that a rebuild fills ``<table>__new`` shadows and swaps
them in (see :mod:`projections.rebuild`). Indexes are created on the live names only, after a
swap, because index names are global to a schema.

The tables are created and changed by the migrations (:mod:`aggregates.migrations`, branch
``read_models``); what is declared here is what the code reads and writes, and
``tests/test_migrations.py`` checks that the two agree.

Money is stored as integer fen (分) so that sums in SQL are exact on SQLite too (its NUMERIC is a
float); queries turn fen back into two-place decimal strings.
"""

from __future__ import annotations

import sqlalchemy as sa

POSITIONS = "projection_positions"
SHADOW = "__new"

MODELS = ("platforms", "publicity", "ledger", "subfields", "deadlines")

# model name -> its tables, in creation order
MODEL_TABLES: dict[str, tuple[str, ...]] = {
    "platforms": ("rm_platforms", "rm_platform_objections"),
    "publicity": ("rm_publicity_batches", "rm_publicity_entries"),
    "ledger": ("rm_ledger_entries",),
    "subfields": ("rm_subfield_seats", "rm_subfield_history", "rm_admitted_subfields"),
    "deadlines": ("rm_deadlines",),
}

# table -> (index suffix, columns)
INDEXES: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "rm_platforms": (("status", ("status", "seq")), ("subfield", ("subfield", "seq")),
                     ("host", ("host_credit_code", "seq")), ("seq", ("seq",))),
    "rm_publicity_batches": (("seq", ("seq",)),),
    "rm_publicity_entries": (("platform", ("platform_id",)),),
    # ``years`` and ``lines`` cover the ledger-by-year sums (queries.ledger_years, ledger_year_lines):
    # the database reads the index alone, already grouped, never the wide entry rows.
    "rm_ledger_entries": (("fy", ("fiscal_year", "position")),
                          ("years", ("fiscal_year", "kind", "amount_fen")),
                          ("lines", ("platform_id", "fiscal_year", "kind", "amount_fen", "business_date", "position"))),
    "rm_subfield_history": (("subfield", ("subfield", "occupied_position")),),
    "rm_deadlines": (("due", ("due_date",)),),
}


def _columns(table: str) -> list[sa.Column]:
    c = sa.Column
    S, I, B, T, D = sa.String, sa.Integer, sa.BigInteger, sa.Text, sa.Date  # noqa: E741 - column types, one letter each
    if table == "rm_platforms":
        return [c("id", S(36), primary_key=True), c("seq", B, nullable=False),
                c("name", T, nullable=False), c("subfield", T, nullable=False),
                c("host_credit_code", S(18), nullable=False), c("host_name", T, nullable=False),
                c("status", S(32), nullable=False), c("version", I, nullable=False),
                c("position", B, nullable=False), c("summary", T, nullable=False),
                # Art. 8(3) recusal on the read side (the staff workbench's scoring list): the
                # co-builders' credit codes (JSON list; the host's is its own column) and the
                # experts who have scored (JSON list of actor ids).
                c("co_builder_codes", T, nullable=False), c("scored_by", T, nullable=False)]
    if table == "rm_platform_objections":
        # 异议: one row per objection, so that an objection costs a row, not a re-rendering of
        # every earlier one in the platform's summary. Never the objector's identity.
        return [c("platform_id", S(36), primary_key=True), c("objection_no", I, primary_key=True),
                c("received_on", D, nullable=False), c("admissible", sa.Boolean, nullable=False),
                c("outcome", S(16)), c("position", B, nullable=False)]
    if table == "rm_publicity_batches":
        return [c("batch_id", S(36), primary_key=True), c("seq", B, nullable=False),
                c("batch_ref", T, nullable=False), c("media", T, nullable=False),
                c("start_date", D, nullable=False), c("first_day", D), c("last_day", D),
                c("working_days", I, nullable=False), c("published_on", D, nullable=False)]
    if table == "rm_publicity_entries":
        return [c("batch_id", S(36), primary_key=True), c("platform_id", S(36), primary_key=True),
                c("ord", I, nullable=False), c("name", T, nullable=False), c("host_name", T, nullable=False),
                c("host_credit_code", S(18), nullable=False), c("subfield", T, nullable=False),
                c("policy_ref", T, nullable=False), c("objections", I, nullable=False),
                c("late_objections", I, nullable=False), c("upheld", I, nullable=False),
                c("dismissed", I, nullable=False), c("unresolved", I, nullable=False),
                c("outcome", S(16))]
    if table == "rm_ledger_entries":
        return [c("entry_id", S(32), primary_key=True), c("position", B, nullable=False),
                c("kind", S(16), nullable=False), c("event_type", S(32), nullable=False),
                c("platform_id", S(36), nullable=False), c("originator_version", I, nullable=False),
                c("host_credit_code", S(18), nullable=False), c("host_name", T, nullable=False),
                c("amount_fen", B, nullable=False), c("business_date", D, nullable=False),
                c("fiscal_year", I, nullable=False), c("document_ref", T)]
    if table == "rm_subfield_seats":
        return [c("subfield", T, primary_key=True), c("holder_id", S(36)),
                c("exception_holders", T, nullable=False), c("position", B, nullable=False)]
    if table == "rm_subfield_history":
        return [c("subfield", T, primary_key=True), c("platform_id", S(36), primary_key=True),
                c("exception", T), c("occupied_on", D, nullable=False), c("occupied_position", B, nullable=False),
                c("released_on", D), c("released_position", B)]
    if table == "rm_admitted_subfields":
        # 增列细分领域 (Art. 4 "等"): the subfields the bureau admitted beyond a policy's list.
        return [c("policy_ref", T, primary_key=True), c("subfield", T, primary_key=True),
                c("document_ref", T, nullable=False), c("reasons", T, nullable=False),
                c("admitted_on", D, nullable=False), c("position", B, nullable=False)]
    if table == "rm_deadlines":
        return [c("platform_id", S(36), primary_key=True), c("kind", S(32), primary_key=True),
                c("name", T, nullable=False), c("host_name", T, nullable=False),
                c("policy_ref", T, nullable=False), c("basis_date", D, nullable=False),
                c("due_date", D), c("position", B, nullable=False),
                # Art. 9(1): the day the missed acceptance deadline was recorded, and the day the
                # bureau admitted a late application (null: neither).
                c("missed_on", D), c("late_admitted_on", D)]
    raise KeyError(table)


def build_metadata(suffix: str = "",
                   models: tuple[str, ...] | list[str] = MODELS) -> tuple[sa.MetaData, dict[str, sa.Table]]:
    """The tables of ``models`` named ``<table><suffix>``; keys are the live names."""
    md = sa.MetaData()
    tables = {}
    for model in models:
        for name in MODEL_TABLES[model]:
            # Index names are global to a schema: the live tables declare theirs, shadows get
            # them from create_indexes after the swap.
            indexes = [sa.Index(f"ix_{name}_{ix}", *cols) for ix, cols in INDEXES.get(name, ())]
            tables[name] = sa.Table(name + suffix, md, *_columns(name), *(indexes if not suffix else ()))
    return md, tables


POSITIONS_MD = sa.MetaData()
positions_table = sa.Table(
    POSITIONS, POSITIONS_MD,
    sa.Column("name", sa.String(32), primary_key=True),
    sa.Column("position", sa.BigInteger, nullable=False),
)

# A model the runner stopped because it could not apply an event (never a read model: it says
# why one is not current). Cleared when the model gets past that event (a fixed runner, a rebuild).
FAILURES = "projection_failures"
failures_table = sa.Table(
    FAILURES, POSITIONS_MD,
    sa.Column("name", sa.String(32), primary_key=True),
    sa.Column("position", sa.BigInteger, nullable=False),
    sa.Column("event", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("failed_at", sa.String(40), nullable=False),
)

LIVE_MD, LIVE = build_metadata()


def create_indexes(conn: sa.Connection, table_names: list[str]) -> None:
    """The live tables' indexes, on shadow tables swapped in by a rebuild."""
    for name in table_names:
        for suffix, cols in INDEXES.get(name, ()):
            conn.execute(sa.text(f'CREATE INDEX IF NOT EXISTS "ix_{name}_{suffix}" ON "{name}" ({", ".join(cols)})'))


__all__ = ["MODELS", "MODEL_TABLES", "LIVE", "positions_table", "failures_table", "FAILURES",
           "build_metadata", "create_indexes", "SHADOW", "POSITIONS", "POSITIONS_MD"]

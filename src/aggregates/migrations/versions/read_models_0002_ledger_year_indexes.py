"""The ledger's by-year indexes (资金台账分年度索引).

``ix_rm_ledger_entries_years`` (fiscal year, kind, amount) and ``ix_rm_ledger_entries_lines``
(platform, fiscal year, kind, amount, business date, position) cover the ledger-by-year sums of
the staff ledger page and ``GET /funding-ledger/by-year`` (``projections.queries.ledger_years``
and ``ledger_year_lines``): the database reads the index alone, already grouped, never the wide
entry rows. The lines index begins with the platform, so it also serves what the platform index
served, which goes.

Revision ID: read0002
Revises: read0001
"""

from __future__ import annotations

from alembic import op

revision = "read0002"
down_revision = "read0001"
branch_labels = None
depends_on = None

TABLE = "rm_ledger_entries"


def upgrade() -> None:
    op.create_index(f"ix_{TABLE}_years", TABLE, ["fiscal_year", "kind", "amount_fen"], if_not_exists=True)
    op.create_index(f"ix_{TABLE}_lines", TABLE,
                    ["platform_id", "fiscal_year", "kind", "amount_fen", "business_date", "position"],
                    if_not_exists=True)
    op.drop_index(f"ix_{TABLE}_platform", table_name=TABLE, if_exists=True)

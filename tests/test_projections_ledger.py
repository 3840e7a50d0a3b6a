"""Funding ledger (资金台账): commitments, releases, disbursements and recoveries reconcile with
the events to the fen after a mixed programme (Art. 8(5), 9(3), 13)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from freezegun import freeze_time

from aggregates.application import RegistryApp
from aggregates.programme import Programme
from aggregates.store import StoreConfig
from cohorts import cohort, expected_cohort_money
from projections import queries as Q
from projections.db import make_engine
from projections.reconcile import ledger_from_events, reconcile
from projections.runner import ReadModelRunner

NOW = "2026-06-01T02:00:00Z"


@pytest.fixture
def programme(store_url):
    with freeze_time(NOW):
        app = RegistryApp(StoreConfig(store_url))
        prog = Programme(app)
        outcomes = [cohort(prog, i) for i in range(2)]
    engine = make_engine(app.store)
    ReadModelRunner(app, engine).catch_up()
    yield app, engine, outcomes
    engine.dispose()
    app.close()


def test_ledger_reconciles_to_the_fen(programme) -> None:
    app, engine, outcomes = programme
    expected = {k: sum((expected_cohort_money(o)[k] for o in outcomes), Decimal("0.00"))
                for k in ("committed", "released", "disbursed", "recovered", "outstanding_commitments")}
    assert ledger_from_events(app) == expected
    with engine.connect() as conn:
        ledger = Q.funding_ledger(conn)
        assert reconcile(app, conn)["ok"]
    totals = ledger["totals"]
    assert {k: totals[k] for k in expected} == {k: str(v.quantize(Decimal("0.01"))) for k, v in expected.items()}
    # Over the whole ledger the balance opens at nothing and closes at what is outstanding.
    assert totals["opening_balance"] == "0.00"
    assert totals["closing_balance"] == totals["commitment_change"] == totals["outstanding_commitments"]
    assert totals["recovered"] == "500001.00"  # 2 × 250,000.50: fen survive the sums
    kinds = {e["kind"] for e in ledger["entries"]}
    assert kinds == {"commitment", "release", "disbursement", "recovery"}
    # Every entry points at the event that caused it.
    for e in ledger["entries"]:
        assert e["entry_id"] == str(e["event"]["position"])
        assert Decimal(e["amount"]) > 0


def test_ledger_per_fiscal_year_and_host_unit(programme) -> None:
    app, engine, outcomes = programme
    with engine.connect() as conn:
        fy2022 = Q.funding_ledger(conn, fiscal_year=2022)
        fy2023 = Q.funding_ledger(conn, fiscal_year=2023)
        fy2024 = Q.funding_ledger(conn, fiscal_year=2024)
        csv_text = Q.ledger_csv(conn, fiscal_year=2024)
        everything = Q.funding_ledger(conn)
    assert {e["fiscal_year"] for e in fy2022["entries"]} == {2022}
    # Commitments are approved in 2022 (the funding plan), grants paid in December 2023.
    assert fy2022["totals"]["committed"] == "18000000.00" and fy2022["totals"]["disbursed"] == "0.00"
    assert fy2023["totals"]["disbursed"] == "10000000.00"
    assert fy2024["totals"]["recovered"] == "500001.00"
    assert csv_text.startswith("\ufeff业务日期,财政年度,类型,")
    assert csv_text.count("\r\n") == 1 + len(fy2024["entries"]) + 1  # the header, the entries, the totals
    assert "250000.50" in csv_text
    hosts = everything["by_host_unit"]
    assert sum(Decimal(h["committed"]) for h in hosts) == Decimal(everything["totals"]["committed"])
    assert sum(Decimal(y["disbursed"]) for y in everything["by_fiscal_year"]) == Decimal("10000000.00")


def test_release_of_nothing_writes_no_entry(memory_registry) -> None:
    """A platform withdrawn before approval had no commitment: no release entry."""
    from projections.views import summarize

    with freeze_time(NOW):
        prog = Programme(memory_registry)
        pid = prog.apply("智能芯片")
        prog.withdraw(pid, on="2022-03-02", reasons="撤回")
        events = list(memory_registry.stream(pid))
    assert type(events[-1]).__name__ == "Withdrawn" and events[-1].released_amount == 0
    assert summarize(memory_registry.get_platform(pid))["funding"]["committed"] == "0.00"


def test_the_ledger_by_year_indexes_are_added_to_an_existing_store(programme) -> None:
    """A store whose read models predate the covering indexes of the ledger by year (at revision
    read0001) gets them from ``platforms migrate`` (revision read0002), without a rebuild: its
    rows stay."""
    import sqlalchemy as sa

    from aggregates.migrations import VERSION_TABLE, migrate

    app, engine, _ = programme
    with engine.begin() as conn:
        for name in ("ix_rm_ledger_entries_years", "ix_rm_ledger_entries_lines"):
            conn.execute(sa.text(f'DROP INDEX "{name}"'))
        conn.execute(sa.text('CREATE INDEX "ix_rm_ledger_entries_platform" ON rm_ledger_entries (platform_id)'))
        conn.execute(sa.text(f"UPDATE {VERSION_TABLE} SET version_num = 'read0001' WHERE version_num = 'read0002'"))
        before = conn.execute(sa.text("SELECT count(*) FROM rm_ledger_entries")).scalar_one()
    assert [r.split(":")[0] for r in migrate(app.store)] == ["read0002"]
    with engine.connect() as conn:
        indexes = {i["name"] for i in sa.inspect(conn).get_indexes("rm_ledger_entries")}
        assert {"ix_rm_ledger_entries_years", "ix_rm_ledger_entries_lines"} <= indexes
        assert "ix_rm_ledger_entries_platform" not in indexes
        assert conn.execute(sa.text("SELECT count(*) FROM rm_ledger_entries")).scalar_one() == before > 0

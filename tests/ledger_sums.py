"""The funding ledger's fiscal-year figures summed straight from the event log, and the check of
every ledger report against them (no tests here: ``test_ledger_figures.py`` runs the check on
the demo and on a generated programme, ``bench/bench_ledger_figures.py`` on the 200,000-event one).

Independent of the projection on purpose: the event names and fields that move money are
listed here, from the domain (Art. 8(5) the commitment at approval, Art. 9(3) the grant, Art. 13
the recovery, and the release of an outstanding commitment by a withdrawal, a rescinded
approval, a termination or a revocation), not imported from ``projections``.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

from openpyxl import load_workbook

from projections import queries

PLATFORM_TOPIC = "platform-registry/Platform/"
KINDS = ("commitments", "releases", "disbursements", "recoveries")
# event name -> (kind, the field holding its amount)
MONEY_EVENTS = {"Approved": ("commitments", "funding_committed"), "Withdrawn": ("releases", "released_amount"),
                "ApprovalRescinded": ("releases", "released_amount"), "Terminated": ("releases", "released_amount"),
                "Revoked": ("releases", "released_amount"), "Funded": ("disbursements", "amount"),
                "FundsRecovered": ("recoveries", "amount")}
CSV_KIND_COLUMNS = {"commitments": "承诺", "releases": "释放", "disbursements": "拨付", "recoveries": "追回"}


def flows_from_events(app: Any) -> dict[int, dict[str, Decimal]]:
    """Per fiscal year (the calendar year of the act's business date), the yuan of each kind."""
    years: dict[int, dict[str, Decimal]] = {}
    position = 0
    while batch := app.recorder.select_notifications(position + 1, 5000):
        position = batch[-1].id
        for n in batch:
            name = n.topic.rsplit("/", 1)[-1]
            if not n.topic.startswith(PLATFORM_TOPIC) or name not in MONEY_EVENTS:
                continue
            event = app.mapper.to_domain_event(n)
            kind, field = MONEY_EVENTS[name]
            amount = Decimal(getattr(event, field) or 0)
            if amount:
                year = years.setdefault(event.act.business_date.year, dict.fromkeys(KINDS, Decimal("0.00")))
                year[kind] += amount
    return years


def expected_years(app: Any) -> dict[int, dict[str, str]]:
    """Every year from the first to the last with money: the figures of ``GET
    /funding-ledger/by-year`` (opening, the four flows, closing) as two-place strings."""
    flows = flows_from_events(app)
    out: dict[int, dict[str, str]] = {}
    opening = Decimal("0.00")
    for year in range(min(flows), max(flows) + 1) if flows else ():
        f = flows.get(year, dict.fromkeys(KINDS, Decimal("0.00")))
        closing = opening + f["commitments"] - f["releases"] - f["disbursements"]
        out[year] = {"opening_balance": _money(opening), **{k: _money(f[k]) for k in KINDS},
                     "closing_balance": _money(closing)}
        opening = closing
    return out


def _money(amount: Decimal) -> str:
    return str(amount.quantize(Decimal("0.01")))


def check_ledger(app: Any, conn: Any) -> int:
    """Assert that every report of the ledger gives the figures summed from the events, each
    fiscal year and over all; returns the number of years checked."""
    expected = expected_years(app)
    assert expected, "the log holds no money"
    # GET /funding-ledger/by-year, and the page's summary by year.
    by_year = queries.funding_ledger_by_year(conn)
    assert {y["fiscal_year"]: y["totals"] for y in by_year["fiscal_years"]} == expected
    assert {y: totals.yuan() for y, totals in queries.ledger_years(conn)} == {
        y: {k: Decimal(v) for k, v in figures.items()} for y, figures in expected.items()}
    first, last = min(expected), max(expected)
    assert by_year["totals"]["opening_balance"] == "0.00"
    assert by_year["totals"]["closing_balance"] == expected[last]["closing_balance"]
    # GET /funding-ledger, whole and per fiscal year: flows and balances under their names.
    names = {"committed": "commitments", "released": "releases", "disbursed": "disbursements",
             "recovered": "recoveries"}
    whole = queries.funding_ledger(conn)
    for line in whole["by_fiscal_year"]:
        year = expected[line["fiscal_year"]]
        assert {k: line[k] for k in names} == {k: year[v] for k, v in names.items()}, line
        assert (line["opening_balance"], line["closing_balance"]) == (year["opening_balance"], year["closing_balance"])
    for y in range(first, last + 1):
        totals = queries.funding_ledger(conn, fiscal_year=y)["totals"]
        year = expected[y]
        assert {k: totals[k] for k in names} == {k: year[v] for k, v in names.items()}, (y, totals)
        assert totals["opening_balance"] == year["opening_balance"], (y, totals)
        assert totals["closing_balance"] == totals["outstanding_commitments"] == year["closing_balance"], (y, totals)
        change = Decimal(year["closing_balance"]) - Decimal(year["opening_balance"])
        assert Decimal(totals["commitment_change"]) == change, (y, totals)
    # The entries' CSV, read back as a spreadsheet user's tool reads it: the sum of each
    # amount column per year, and the totals row, are the events'.
    rows = list(csv.DictReader(io.StringIO(queries.ledger_csv(conn).removeprefix("\ufeff"))))
    body, total = rows[:-1], rows[-1]
    assert total["业务日期"] == "合计"
    assert [r["业务日期"] for r in body] == sorted(r["业务日期"] for r in body)
    for kind, column in CSV_KIND_COLUMNS.items():
        for y in range(first, last + 1):
            summed = sum((Decimal(r[column]) for r in body if r[column] and int(r["财政年度"]) == y), Decimal("0.00"))
            assert _money(summed) == expected[y][kind], (kind, y)
        assert total[column] == _money(sum((Decimal(expected[y][kind]) for y in expected), Decimal("0")))
    # The by-year workbook, opened with openpyxl: each year's lines sum to the year's figures,
    # and the totals row holds the first opening, the flows of every year and the last closing.
    sheet = load_workbook(io.BytesIO(queries.ledger_by_year_xlsx(conn)), read_only=True).active
    assert sheet is not None
    table = list(sheet.iter_rows(values_only=True))
    header, lines, totals_row = table[0], table[1:-1], table[-1]
    figures = header[5:]
    for y, year in expected.items():
        sums = [sum((Decimal(str(line[5 + i])) for line in lines if line[0] == y), Decimal("0.00"))
                for i in range(len(figures))]
        assert [_money(s) for s in sums] == list(year.values()), y
    flows = [_money(sum((Decimal(expected[y][k]) for y in expected), Decimal("0"))) for k in KINDS]
    assert [_money(Decimal(str(v))) for v in totals_row[5:]] == [
        expected[first]["opening_balance"], *flows, expected[last]["closing_balance"]]
    return len(expected)


__all__ = ["check_ledger", "expected_years", "flows_from_events"]

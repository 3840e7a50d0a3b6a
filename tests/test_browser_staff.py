"""A whole programme round through the staff workbench in a real browser (issue 14's tests):
headless Chromium (Debian's ``chromium``) driven by Playwright through ``executable_path``, on
uvicorn in a background thread, as ``test_browser_publicity`` does.

Role by role, through the pages and forms only (no API call, no service call for an act): the
host unit applies; the service agency receives it; five experts score from their inboxes, while
an expert of the host unit finds it neither in the inbox nor behind the form's address; the
bureau inspects and approves (with the confirmation step) and publicizes it; a member of the
public objects on the public page; the bureau's notice is refused while the objection is open
(the form shows Art. 8(7)), the objection is dismissed and the notice issued; the task book; the
host unit's acceptance application; the agency's acceptance review; recognition; finance pays
the grant (and gets the 403 page on a bureau form); the bureau revokes and finance recovers the
1,000,000.00 yuan. The read models are then read through the JSON API.

Time: the server runs in this process, so "today" (Asia/Shanghai) is set for it by
:class:`BusinessClock`, which stands in for the ``datetime`` class :mod:`aggregates.clock`
reads (no freezegun: event timestamps and the session's and CSRF tokens' clocks stay real).
Each role acts on the day of the round it acts on, as a person would on that day.

Accessibility: axe-core (the copy the pinned PyPI package ``axe-playwright-python`` ships, so no
network is needed) checks every page the walk sees at 360 px and 1280 px and must report no
violation. The walking browser has JavaScript disabled (the workbench works without it), and
axe cannot run there (its checks wait on promises and timers of the page's own script engine),
so each page's HTML, exactly as the walking browser got it, is served again at the same origin
to a second page with JavaScript enabled, used only to run axe; the stylesheet is the server's.
Full-page screenshots of the inbox, the dossier and the ledger at both widths go to
``artifacts/screenshots/``.

Skips, saying why, when Chromium or Playwright is absent (as ``test_browser_publicity`` does),
or when axe-playwright-python is not installed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime, time, tzinfo
from decimal import Decimal
from typing import Any

import httpx
import pytest

import aggregates.clock
from api_client import HOST, PASSWORD, Api, served_api
from demo_store import sign_checkpoint_now
from support import Served
from test_browser_publicity import SCREENSHOTS, SKIP_REASON, chromium


def _axe_missing() -> str | None:
    try:
        import axe_playwright_python  # noqa: F401
    except ImportError:
        return "axe-playwright-python is not installed (pip install -e '.[test]')"
    return None


SKIP = SKIP_REASON or _axe_missing()
pytestmark = [pytest.mark.browser, pytest.mark.skipif(SKIP is not None, reason=SKIP or "")]

WIDTHS = (360, 1280)
PLATFORM = "星河智能算力开放创新平台"
HOST_UNIT = "湖南星河智算科技有限公司"
OBJECTOR = "测试异议人丁戊己"
GRANT = Decimal("1000000.00")


# The elements that reach past the viewport's right edge (none scrolled inside a wrapper of
# their own, like a wide table in .table-wrap): the page must fit at 360 px as at 1280 px.
WIDER_THAN_VIEWPORT = """() => {
  const width = document.documentElement.clientWidth, out = [];
  for (const el of document.querySelectorAll("body *")) {
    if (el.closest(".table-wrap")) continue;
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.right > width + 1) out.push(`${el.tagName}.${el.className} ${Math.round(r.right)}`);
  }
  return out.slice(0, 5);
}"""


class BusinessClock:
    """Today in Asia/Shanghai for everything that asks :func:`aggregates.clock.today_in_shanghai`:
    noon of :attr:`day` there (the real now while it is None)."""

    day: date | None = None

    def datetime_class(self) -> type[datetime]:
        clock = self
        real = datetime

        class BusinessDatetime(datetime):
            @classmethod
            def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
                if clock.day is None:
                    return real.now(tz)
                noon = real.combine(clock.day, time(12), tzinfo=aggregates.clock.SHANGHAI)
                return noon.astimezone(tz) if tz is not None else noon.replace(tzinfo=None)

        return BusinessDatetime


@pytest.fixture(scope="module")
def clock() -> Iterator[BusinessClock]:
    c = BusinessClock()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(aggregates.clock, "datetime", c.datetime_class())
        yield c


@pytest.fixture(scope="module")
def workbench(tmp_path_factory: pytest.TempPathFactory, clock: BusinessClock) -> Iterator[tuple[Served, Api]]:
    """The app on an empty SQLite store with the API tests' accounts (a user of every role), served."""
    with served_api(tmp_path_factory.mktemp("staff-browser")) as (served, api):
        yield served, api


@pytest.fixture(scope="module")
def browser(workbench: tuple[Served, Api]) -> Iterator[Any]:
    with chromium() as b:
        yield b


class Walk:
    """One person at a time at the workbench, in a browser without JavaScript; every page seen
    is checked with axe-core at both widths in a second, scripted page (see the module's doc)."""

    def __init__(self, browser: Any, served: Served, api: Api, clock: BusinessClock) -> None:
        from axe_playwright_python.sync_playwright import Axe

        self.base, self.api, self.clock = served.base, api, clock
        self.context = browser.new_context(viewport={"width": 1280, "height": 900}, java_script_enabled=False,
                                           locale="zh-CN", timezone_id="Asia/Shanghai")
        self.context.set_default_timeout(15_000)
        self.page = self.context.new_page()
        self.axe = Axe()
        self.axe_context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        self.axe_page = self.axe_context.new_page()
        self._html = ""
        self.axe_context.route(f"{self.base}/__axe__/**", lambda route: route.fulfill(
            status=200, content_type="text/html; charset=utf-8", body=self._html))
        self.checked: list[str] = []

    def close(self) -> None:
        self.context.close()
        self.axe_context.close()

    # ---------------------------------------------------------------- time and people
    def on(self, day: str) -> None:
        self.clock.day = date.fromisoformat(day)

    def settle(self) -> None:
        """Let the read models (the inbox's) catch up with every act recorded so far, as a
        person reloading the inbox a moment later would see them."""
        from projections.runner import max_position

        c = self.api.container
        c.notify()
        assert c.runner.wait_for(max_position(c.app), 10)

    def sign_in(self, user: str, check: str | None = None) -> None:
        page = self.page
        if page.locator("form.sign-out").count():
            self.sign_out()
        page.goto(self.base + "/staff/")
        assert page.url.endswith("/staff/login")
        if check:
            self.check(check)
        page.get_by_label("用户名").fill(user)
        page.get_by_label("密码").fill(PASSWORD)
        self.settle()
        page.get_by_role("button", name="登录").click()
        assert page.url == self.base + "/staff/"
        assert page.locator(".who-name").inner_text() == user

    def sign_out(self) -> None:
        self.page.get_by_role("button", name="退出登录").click()
        assert "/staff/login" in self.page.url and "您已安全退出" in self.page.inner_text("main")

    # ---------------------------------------------------------------- checks
    def check(self, name: str) -> None:
        """axe-core on the page as it is now, at 360 and 1280 px: no violation."""
        self._html = self.page.content()
        self.axe_page.goto(f"{self.base}/__axe__/{name}")
        self.axe_page.evaluate(self.axe.axe_script)  # once per page, for both widths
        for width in WIDTHS:
            self.axe_page.set_viewport_size({"width": width, "height": 900})
            violations = self.axe_page.evaluate("axe.run({resultTypes: ['violations']}).then(r => r.violations)")
            found = [f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
                     for v in violations]
            assert found == [], f"axe-core on {name} at {width} px: {found}"
            wide = self.axe_page.evaluate(WIDER_THAN_VIEWPORT)
            assert wide == [], f"{name} is wider than {width} px: {wide}"
        self.checked.append(name)

    def shot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for width in WIDTHS:
            self.page.set_viewport_size({"width": width, "height": 900})
            path = SCREENSHOTS / f"staff-{name}-{width}.png"
            self.page.screenshot(path=str(path), full_page=True)
            assert path.stat().st_size > 10_000
        self.page.set_viewport_size({"width": 1280, "height": 900})

    # ---------------------------------------------------------------- pages and forms
    def inbox_row(self, section: str, pid: str) -> Any:
        self.page.goto(self.base + "/staff/")
        return self.page.locator(f"#inbox-{section} tr[data-platform='{pid}']")

    def open_from_inbox(self, section: str, pid: str) -> None:
        row = self.inbox_row(section, pid)
        assert row.count() == 1, f"{pid} not in the inbox's {section}"
        row.get_by_role("link", name="办理").click()

    def fill(self, **values: str) -> None:
        """The form's fields by name (``host_unit__name`` for ``host_unit.name``); a list is
        chosen by its Chinese text."""
        for key, value in values.items():
            field = self.page.locator(f'form.act-form [name="{key.replace("__", ".")}"]')
            if field.evaluate("e => e.tagName") == "SELECT":
                field.select_option(label=value)
            else:
                field.fill(value)

    def submit(self, check: str | None = None, **values: str) -> None:
        """Fill and send the open form (``check``: axe on the filled form first)."""
        self.fill(**values)
        if check:
            self.check(check)
        self.page.locator("form.act-form button[type=submit]").first.click()

    def confirm(self, check: str | None = None) -> None:
        """The confirmation step of an irreversible act: the summary, then 确认."""
        assert "请核对以下内容" in self.page.inner_text("main")
        if check:
            self.check(check)
        self.page.get_by_role("button", name="确认").click()

    def at_dossier(self, pid: str, status: str) -> None:
        assert self.page.url == f"{self.base}/staff/platforms/{pid}", self.page.url
        assert self.page.locator("dd.status").get_attribute("data-status") == status

    def events(self) -> list[str]:
        return [e.get_attribute("data-type") for e in self.page.locator("li.event").all()]


@pytest.fixture
def walk(browser: Any, workbench: tuple[Served, Api], clock: BusinessClock) -> Iterator[Walk]:
    served, api = workbench
    w = Walk(browser, served, api, clock)
    try:
        yield w
    finally:
        w.close()
        clock.day = None


def _score_lines(api: Api) -> str:
    policy = api.container.app.policies.get("长科发〔2021〕36号")
    return "\n".join(f"{c.criterion}={c.max_points - 3}" for c in policy.rubric)


def test_a_whole_round_through_the_workbench_role_by_role(walk: Walk) -> None:
    page = walk.page

    # Art. 8(1): the host unit applies online, today; a wrong credit code is told beside its field.
    walk.on("2022-03-01")
    walk.sign_in("applicant", check="login")
    walk.check("inbox-applicant")
    page.get_by_role("link", name="办理事项").click()
    walk.check("acts-menu")
    page.get_by_role("link", name=re.compile("申请认定")).click()
    walk.check("form-apply")
    application = dict(
        name=PLATFORM, subfield="智能算力", host_unit__name=HOST_UNIT, host_unit__credit_code=HOST[:-1] + "X",
        host_unit__high_tech_certificate__number="GR202143000123",
        host_unit__high_tech_certificate__valid_until="2024-12-31", commitments="每年投入不少于1000万元",
        achievements="智算调度系统 | 产业化", basic_conditions__technical_strength="国内领先的智算调度技术",
        basic_conditions__open_sharing="开放接口与算力共享", basic_conditions__service_mechanism="专职运营团队")
    walk.submit(**application)
    assert page.locator('[data-field="host_unit.credit_code"] .error-text').is_visible()
    walk.check("form-apply-errors")
    walk.submit(host_unit__credit_code=HOST)
    pid = page.url.rsplit("/", 1)[1]
    walk.at_dossier(pid, "applied")
    walk.check("dossier-applicant")

    # Art. 8(2): the service agency receives it from its inbox.
    walk.on("2022-03-10")
    walk.sign_in("service_agency")
    walk.check("inbox-agency")
    walk.open_from_inbox("applied", pid)
    walk.submit(check="form-intake", decision="受理", reasons="材料齐全，予以受理")
    walk.at_dossier(pid, "accepted")

    # Art. 8(3): an expert of the host unit never sees it, in the inbox or behind the address.
    walk.on("2022-04-15")
    walk.sign_in("expert_conflicted")
    assert walk.inbox_row("to_score", pid).count() == 0 and PLATFORM not in page.content()
    response = page.goto(f"{walk.base}/staff/platforms/{pid}/acts/scores")
    assert response.status == 403 and "回避" in page.inner_text("main") and PLATFORM not in page.content()
    walk.check("403-expert-recusal")
    assert page.goto(f"{walk.base}/staff/platforms/{pid}").status == 403
    # The five others score from their inboxes; each is sent back to the inbox, without it.
    for n in range(1, 6):
        walk.sign_in(f"expert{n}")
        if n == 1:
            walk.check("inbox-expert")
        walk.open_from_inbox("to_score", pid)
        walk.submit(check="form-scores" if n == 1 else None, scores=_score_lines(walk.api),
                    comment=f"专家{n}：开放共享机制完善。")
        assert page.url == walk.base + "/staff/"
        walk.settle()
        assert walk.inbox_row("to_score", pid).count() == 0

    # Art. 8(4)-(5): the bureau inspects, then approves after the confirmation step.
    walk.on("2022-05-20")
    walk.sign_in("bureau")
    walk.check("inbox-bureau")
    walk.open_from_inbox("reviewed", pid)
    walk.submit(check="form-inspection", passed="通过", findings="场地、设备与申报一致。", document_ref="考察-2022-05")
    walk.at_dossier(pid, "inspected")
    walk.on("2022-09-01")
    walk.open_from_inbox("inspected", pid)
    walk.submit(check="form-approval", party_group_meeting_ref="党组会〔2022〕12号",
                vice_mayor_approval_ref="副市长审批〔2022〕3号", funding_plan_ref="资金计划〔2022〕5号")
    walk.confirm(check="confirm-approval")
    walk.at_dossier(pid, "approved")

    # Art. 8(6): the publicity batch, from the menu of acts on no one platform.
    walk.on("2022-09-28")
    page.get_by_role("link", name="办理事项").click()
    page.get_by_role("link", name="列入公示批次").click()
    walk.submit(check="form-publicity", batch_ref="长科公示〔2022〕7号", media="长沙晚报", start_date="2022-09-29",
                platform_ids=pid)
    walk.at_dossier(pid, "in_publicity")
    assert "2022年9月29日至2022年10月10日" in page.inner_text("#publicity")  # across National Day
    walk.sign_out()

    # The public objects on the public page, in the same browser, inside the window.
    walk.on("2022-10-08")
    walk.settle()
    page.goto(walk.base + "/")
    batch = page.locator("section.batch", has_text="长科公示〔2022〕7号")
    assert "公示中" in batch.inner_text()
    batch.get_by_role("heading", level=2).get_by_role("link").click()
    page.locator(f"li#platform-{pid}").get_by_role("link", name=re.compile("对此平台提出异议")).click()
    page.get_by_label("姓名或单位名称").fill(OBJECTOR)
    page.get_by_label("联系方式").fill("0731-88886666")
    page.get_by_label("异议内容").fill("反映该平台申报的开放服务企业数量与实际情况不符，请予核实。")
    page.get_by_role("button", name="提交异议").click()
    assert page.get_by_role("heading", level=1).inner_text() == "异议已收到"
    assert "2022年10月8日" in page.locator(".receipt-facts").inner_text()

    # Art. 8(7): after the window, the notice is refused while the objection is open, with its
    # article and what was typed; the objection is dismissed, then the notice goes out.
    walk.on("2022-10-11")
    walk.sign_in("bureau")
    assert walk.inbox_row("notices", pid).count() == 1 and walk.inbox_row("objections", pid).count() == 1
    walk.shot("inbox-bureau")
    walk.check("inbox-bureau-notices")
    walk.open_from_inbox("notices", pid)
    walk.submit(check="form-notice", document_ref="长科发〔2022〕88号")
    walk.confirm(check="confirm-notice")
    assert page.locator(".refusal-article").inner_text() == "Art. 8(7)"
    assert page.locator(".refusal-code").inner_text() == "objections_unresolved"
    assert page.locator('[name="document_ref"]').input_value() == "长科发〔2022〕88号"
    walk.check("form-notice-refused")
    walk.open_from_inbox("objections", pid)
    assert page.locator('[name="objection_id"]').input_value() == "1"
    walk.submit(check="form-resolution", outcome="异议不成立", vice_mayor_decision_ref="副市长批示〔2022〕21号",
                handling_opinion="经会同市财政局核实，开放服务企业数量属实。")
    walk.at_dossier(pid, "in_publicity")
    assert OBJECTOR in page.inner_text("#publicity")  # the bureau verifies: it sees who objected
    walk.open_from_inbox("notices", pid)
    walk.submit(document_ref="长科发〔2022〕88号")
    walk.confirm()
    walk.at_dossier(pid, "notified")

    # Art. 8(7), 9(1): the task book, a one-year execution period.
    walk.on("2022-11-01")
    assert walk.inbox_row("notified", pid).count() == 1 and "依据第八条（七）" in page.inner_text("#h-notified")
    walk.open_from_inbox("notified", pid)
    walk.submit(check="form-task-book", task_book_ref="任务书-2022-01", period_start="2022-11-01",
                indicators="开放接口数 | ≥20\n服务企业数 | ≥50")
    walk.at_dossier(pid, "under_construction")
    assert "2023年11月30日" in page.inner_text("#task-book")  # the acceptance application's due date

    # Art. 9(1): the host unit applies for acceptance before its due date.
    walk.on("2023-11-20")
    walk.sign_in("applicant")
    assert "2023年11月30日" in walk.inbox_row("acceptance_due", pid).inner_text()
    walk.check("inbox-applicant-acceptance-due")
    walk.open_from_inbox("acceptance_due", pid)
    walk.submit(check="form-acceptance-application", summary="各项建设任务均已完成，申请验收。")
    walk.at_dossier(pid, "acceptance_applied")

    # Art. 9(2)-(3): the service agency's acceptance meeting concludes "qualified".
    walk.on("2023-12-01")
    walk.sign_in("service_agency")
    walk.open_from_inbox("acceptance_applied", pid)
    walk.submit(check="form-acceptance-review", panel="专家甲\n专家乙\n专家丙",
                indicator_results="开放接口数 | 是\n服务企业数 | 是", funds_use_compliant="是", conclusion="合格",
                document_ref="验收会-2023-01")
    walk.at_dossier(pid, "qualified")

    # Art. 9(3): the bureau recognises it.
    walk.on("2023-12-10")
    walk.sign_in("bureau")
    walk.open_from_inbox("qualified", pid)
    walk.submit(check="form-recognition", document_ref="长科发〔2023〕80号", plaque_no="AI-OIP-2023-01")
    walk.at_dossier(pid, "recognized")

    # Art. 9(3): finance pays the grant after the confirmation step; a bureau form is not its own.
    walk.on("2023-12-20")
    walk.sign_in("finance")
    walk.check("inbox-finance")
    walk.open_from_inbox("recognized", pid)
    walk.submit(check="form-funding", joint_document_ref="长财教〔2023〕99号", amount="1000000.00")
    walk.confirm(check="confirm-funding")
    walk.at_dossier(pid, "funded")
    assert page.locator("#money dd.money").nth(1).inner_text() == "1000000.00 元"
    walk.check("dossier-finance")
    response = page.goto(f"{walk.base}/staff/platforms/{pid}/acts/revocation")
    text = page.inner_text("main")
    assert response.status == 403 and response.headers["content-type"].startswith("text/html")
    assert "无权访问" in text and "仅限市科技局办理" in text and "市财政局" in text
    assert "Traceback" not in page.content() and "Exception" not in page.content()
    walk.check("403-finance-bureau-form")

    # Art. 13: the bureau revokes; finance records the money returned, with its own document.
    walk.on("2024-03-01")
    walk.sign_in("bureau")
    page.goto(f"{walk.base}/staff/platforms/{pid}")
    page.locator("#acts").get_by_role("link", name="撤销认定").click()
    walk.submit(check="form-revocation", ground="不能履行职责", document_ref="长科发〔2024〕9号",
                reasons="依托单位不能继续履行职责。")
    walk.confirm(check="confirm-revocation")
    walk.at_dossier(pid, "revoked")
    walk.on("2024-03-15")
    walk.sign_in("finance")
    page.goto(f"{walk.base}/staff/platforms/{pid}")
    page.locator("#acts").get_by_role("link", name="追回资金").click()
    walk.submit(check="form-recovery", amount="1000000.00", document_ref="长财教〔2024〕12号",
                reasons="撤销认定后依托单位退回建设经费。")
    walk.at_dossier(pid, "revoked")
    walk.settle()
    page.get_by_role("link", name="资金台账").click()
    ledger = page.locator("tr.overall")
    assert ledger.locator('[data-field="disbursements"]').inner_text().replace(",", "") == "1000000.00"
    assert ledger.locator('[data-field="recoveries"]').inner_text().replace(",", "") == "1000000.00"
    walk.check("ledger")
    walk.shot("ledger")

    # The bureau reads the whole dossier, its timeline, and the platform as it stood when funded.
    walk.sign_in("bureau")
    page.goto(f"{walk.base}/staff/platforms/{pid}")
    assert walk.events() == [
        "Applied", "Accepted", *["Scored"] * 5, "ReviewCompleted", "Inspected", "Approved", "Publicized",
        "Objected", "ObjectionResolved", "NoticeIssued", "TaskBookSigned", "AcceptanceApplied",
        "AcceptanceReviewed", "AcceptedAsQualified", "Recognized", "Funded", "Revoked", "FundsRecovered"]
    applied = page.locator('li.event[data-type="Applied"]')
    assert "applicant（依托单位）" in applied.inner_text() and "第八条（一）" in applied.inner_text()
    assert "第八条（七）" in page.locator('li.event[data-type="TaskBookSigned"]').inner_text()
    walk.check("dossier-bureau")
    walk.shot("dossier")
    page.get_by_label("截至日期").fill("2023-12-31")
    page.locator("form.as-of-form").get_by_role("button", name="查看").click()
    assert page.locator("dd.status").get_attribute("data-status") == "funded"
    assert "截至 2023年12月31日 日终" in page.inner_text("main") and "Revoked" not in walk.events()
    walk.check("dossier-as-of")

    # The auditors: their inbox, the audit page with a checkpoint the operator signed (`platforms
    # audit checkpoint`), an event's inclusion proof and a verification run.
    sign_checkpoint_now(walk.api.container)
    walk.sign_in("auditor")
    walk.check("inbox-auditor")
    walk.shot("inbox-auditor")
    page.get_by_role("link", name="审计核验").click()
    assert page.locator("tr.checkpoint").count() == 1
    walk.check("audit")
    page.get_by_label("日志位置").fill("1")
    page.get_by_role("button", name="生成证明").click()
    assert "审计路径与根哈希相符" in page.locator(".proof-verified").inner_text()
    walk.check("audit-inclusion-proof")
    page.get_by_role("button", name="立即核验").click()
    walk.check("audit-verified")

    # The read models, as API clients read them, reflect the round.
    walk.settle()
    api = walk.api
    with httpx.Client(base_url=walk.base + "/api/v1", timeout=10) as client:
        batches = client.get("/publicity-list").json()["items"]
        batch_row = next(b for b in batches if b["batch_ref"] == "长科公示〔2022〕7号")
        window = (batch_row["start_date"], batch_row["end_date"], batch_row["open"])
        assert window == ("2022-09-29", "2022-10-10", False)
        (listed,) = batch_row["platforms"]
        assert (listed["id"], listed["objections"], listed["late_objections"]) == (pid, 1, 0)
        assert listed["outcome"] == "dismissed" and OBJECTOR not in str(batches)
        totals = client.get("/funding-ledger", headers=api.headers("finance")).json()["totals"]
        assert Decimal(totals["disbursed"]) == GRANT and Decimal(totals["recovered"]) == GRANT
        assert Decimal(totals["outstanding_commitments"]) == 0
        subfield = next(s for s in client.get("/subfields").json()["items"] if s["name"] == "智能算力")
        assert subfield["holder"] is None and [h["id"] for h in subfield["history"]] == [pid]
    assert len(walk.checked) >= 30


def test_the_axe_check_notices_a_violation(walk: Walk) -> None:
    """The check above can fail: the sign-in page with its password field's label taken away."""
    walk.page.goto(walk.base + "/staff/login")
    walk.check("login-as-served")
    walk.page.evaluate("document.querySelector('label[for=password]').remove()")
    with pytest.raises(AssertionError, match="label"):
        walk.check("login-without-a-label")

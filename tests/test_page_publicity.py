"""The public pages without a browser (FastAPI TestClient) on a copy of the demo store: the
list (open batches first), a batch, the objection form (validation in Chinese, CSRF, rate
limit, late objections, resubmission), the receipt and the new count, no objector's identity on
any public page, the subfield registry, the checkpoint footer, 404s, headers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from aggregates.clock import today_in_shanghai
from aggregates.errors import ConcurrentModification
from api.inputs import valid_contact
from api.page_security import CSRF_COOKIE, Csrf, SlidingWindowLimiter
from demo_store import DemoStore, hidden, make_container, objection_counts, open_platform_links, sign_checkpoint_now

NAME = "欧阳测试者"
PHONE = "13912345678"
CONTENT = "反映该平台申报材料中的开放服务企业数量与实际情况不符，请予核实。"


class Site:
    """A TestClient on the demo copy, with helpers for the form."""

    def __init__(self, client: TestClient, container: Any) -> None:
        self.client = client
        self.container = container

    def get(self, path: str, **kw: Any) -> Any:
        return self.client.get(path, **kw)

    def form(self, form_path: str) -> tuple[str, dict[str, str]]:
        r = self.client.get(form_path)
        assert r.status_code == 200, r.text
        action = re.search(r'<form class="objection-form" method="post" action="([^"]+)"', r.text).group(1)
        return action, {"csrf_token": hidden(r.text, "csrf_token"), "submission_id": hidden(r.text, "submission_id")}

    def object(self, form_path: str, **fields: str) -> Any:
        action, data = self.form(form_path)
        data.update({"objector_name": NAME, "contact": PHONE, "content": CONTENT})
        data.update(fields)
        return self.client.post(action, data=data)

    def batches(self) -> list[dict[str, Any]]:
        return self.client.get("/api/v1/publicity-list").json()["items"]

    def public_pages(self) -> dict[str, str]:
        """Every public HTML page there is (list, each batch, each form, subfields, checkpoint)."""
        pages = {p: self.get(p).text for p in ("/", "/subfields", "/checkpoint")}
        for b in self.batches():
            url = f"/publicity/{quote(b['batch_ref'], safe='')}"
            pages[url] = self.get(url).text
            for p in b["platforms"]:
                form = f"{url}/platforms/{p['id']}/objections/new"
                pages[form] = self.get(form).text
        return pages


@pytest.fixture
def site(demo_store: DemoStore) -> Iterator[Site]:
    container = make_container(demo_store)
    with TestClient(__import__("api.app", fromlist=["create_app"]).create_app(container)) as client:
        yield Site(client, container)
    container.close()


def _open_form(site: Site) -> str:
    links = open_platform_links(site.get("/").text)
    assert links, "the demo's live batch should be open today"
    return links[0]


def _closed(site: Site) -> dict[str, Any]:
    return next(b for b in site.batches() if b["state"] == "closed")


# ------------------------------------------------------------------ reading
def test_list_shows_open_batches_first_in_chinese(site: Site) -> None:
    r = site.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert '<html lang="zh-CN">' in html
    for landmark in ("<header", "<nav", "<main", "<footer", 'class="skip-link" href="#main"'):
        assert landmark in html
    states = re.findall(r'<section class="batch batch-(\w+)"', html)
    assert states[0] == "open" and states[-1] == "closed"
    assert states == sorted(states, key=["open", "upcoming", "closed"].index)
    live = next(b for b in site.batches() if b["open"])
    today = today_in_shanghai()
    remaining = site.container.app.calendar.working_days_between(today, date.fromisoformat(live["end_date"]))
    first = html.split('<section class="batch')[1]
    assert live["batch_ref"] in first and "公示中" in first
    assert f"<strong>{remaining}</strong> 个" in first
    end = date.fromisoformat(live["end_date"])
    assert f"{end.year}年{end.month}月{end.day}日" in first
    for p in live["platforms"]:
        assert p["name"] in first and p["host_unit"]["name"] in first and p["subfield"] in first
    # A closed batch shows the outcome of its objections, and no form.
    assert "异议成立，已撤销审定" in html and "异议不成立，维持审定" in html
    assert "逾期 1 件" in html
    assert html.count("对此平台提出异议") == len(live["platforms"])
    assert "<script" not in html


def test_batch_page_and_404s(site: Site) -> None:
    closed = _closed(site)
    r = site.get(f"/publicity/{quote(closed['batch_ref'], safe='')}")
    assert r.status_code == 200
    assert closed["batch_ref"] in r.text and "已结束" in r.text and "对此平台提出异议" not in r.text
    missing = site.get("/publicity/" + quote("长科公示〔1999〕9号", safe=""))
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")
    assert "未找到该公示批次" in missing.text and '<html lang="zh-CN">' in missing.text
    url = f"/publicity/{quote(closed['batch_ref'], safe='')}/platforms/00000000-0000-0000-0000-000000000000"
    assert site.get(url + "/objections/new").status_code == 404
    assert "未找到该平台" in site.get(url + "/objections/new").text
    assert site.client.post(url + "/objections", data={}).status_code == 404
    # The form's own address, opened directly (a bookmark, a reload): back to the form.
    form = _open_form(site)
    r = site.client.get(form.removesuffix("/new"), follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == form


def test_pending_window_shows_to_be_determined(tmp_path: Path) -> None:
    """A window that reaches into a year whose official schedule is not loaded: 待定."""
    from aggregates.programme import Driver
    from aggregates.values import Act, Role
    from api.app import create_app
    from api.bootstrap import build_container
    from api.settings import Settings

    c = build_container(Settings.from_env(database_url=f"sqlite:///{tmp_path / 'e.sqlite3'}",
                                          var_dir=tmp_path / "var", secret_key="k" * 40))
    try:
        pid = Driver(c.app).to("approved").pid
        # The first year whose official schedule nobody has loaded (2027 while the bundled data
        # ends in 2026): a window starting there is pending whatever the package's version.
        next_year = max(c.app.calendar.loaded_years()) + 1
        today = today_in_shanghai()
        c.app.publicize(Act("bureau-1", Role.BUREAU, today, recorded_on=today), batch_ref="长科公示〔待定〕1号",
                        media="长沙晚报", start_date=date(next_year, 6, 1), platform_ids=[pid])
        with TestClient(create_app(c)) as client:
            html = client.get("/").text
        assert "<strong>待定</strong>" in html and f"{next_year}年的国家法定节假日与调休安排尚未载入" in html
    finally:
        c.close()


def test_subfield_registry_has_eighteen_rows(site: Site) -> None:
    r = site.get("/subfields")
    assert r.status_code == 200
    body = r.text.split("<tbody>")[1].split("</tbody>")[0]
    assert body.count("<tr>") == 18
    registry = site.client.get("/api/v1/subfields").json()
    for item in registry["items"]:
        assert item["name"] in body
        if item["holder"]:
            assert item["holder"]["name"] in body
    assert "暂无" in body


# ------------------------------------------------------------------ filing
def test_objection_receipt_count_and_no_identity_anywhere(site: Site) -> None:
    form = _open_form(site)
    before = objection_counts(site.get("/").text)
    r = site.object(form)
    assert r.status_code == 200, r.text
    assert "异议已收到" in r.text
    today = today_in_shanghai()
    assert f"{today.year}年{today.month}月{today.day}日" in r.text and f'datetime="{today.isoformat()}"' in r.text
    number = int(re.search(r'data-objection-id="(\d+)"', r.text).group(1))
    assert r.headers["cache-control"] == "no-store"
    assert NAME not in r.text and PHONE not in r.text
    after = objection_counts(site.get("/").text)
    assert sum(after) == sum(before) + 1
    changed = [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
    assert len(changed) == 1 and after[changed[0]] == number
    # The objector's identity is on no public page, nor in the public JSON list.
    pages = site.public_pages()
    pages["/api/v1/publicity-list"] = site.client.get("/api/v1/publicity-list").text
    for path, html in pages.items():
        for secret in (NAME, PHONE, CONTENT[:12], "市民（演示）", "0731-00000000"):
            assert secret not in html, f"{secret!r} is shown on {path}"
    # ...but it is recorded, for the bureau.
    pid = form.split("/platforms/")[1].split("/")[0]
    objections = site.container.app.get_platform(__import__("uuid").UUID(pid)).objections
    assert objections[str(number)]["objector_name"] == NAME and objections[str(number)]["admissible"] is True


def test_resubmitting_the_same_form_files_once(site: Site) -> None:
    form = _open_form(site)
    action, data = site.form(form)
    data.update({"objector_name": NAME, "contact": "someone@example.cn", "content": CONTENT})
    before = sum(objection_counts(site.get("/").text))
    first = site.client.post(action, data=data)
    again = site.client.post(action, data=data)  # the browser's "resend the form?"
    assert first.status_code == again.status_code == 200
    no = re.compile(r'data-objection-id="(\d+)"')
    assert no.search(first.text).group(1) == no.search(again.text).group(1)
    assert sum(objection_counts(site.get("/").text)) == before + 1
    changed = dict(data, content=CONTENT + "补充")  # same form id, different content
    r = site.client.post(action, data=changed)
    assert r.status_code == 409 and "这份表单已经提交过" in r.text


def test_a_busy_platform_asks_to_try_again_and_keeps_the_form(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    """Write conflicts until the retry deadline are "busy, try again", never "this platform does
    not accept objections"; the filled-in form comes back and a second press files it once."""
    form = _open_form(site)
    action, data = site.form(form)
    data.update({"objector_name": NAME, "contact": PHONE, "content": CONTENT})
    before = sum(objection_counts(site.get("/").text))
    with monkeypatch.context() as m:
        def lost_every_race(*_: Any, **__: Any) -> Any:
            raise ConcurrentModification()

        m.setattr(site.container.app, "object", lost_every_race)
        r = site.client.post(action, data=data)
    assert r.status_code == 503 and r.headers["retry-after"]
    assert "系统繁忙" in r.text and "不接受异议" not in r.text
    assert CONTENT in r.text and hidden(r.text, "submission_id") == data["submission_id"]
    assert sum(objection_counts(site.get("/").text)) == before
    again = site.client.post(action, data=dict(data, csrf_token=hidden(r.text, "csrf_token")))
    assert again.status_code == 200 and "异议已收到" in again.text
    assert sum(objection_counts(site.get("/").text)) == before + 1


def test_invalid_form_shows_messages_beside_the_fields(site: Site) -> None:
    form = _open_form(site)
    before = sum(objection_counts(site.get("/").text))
    action, data = site.form(form)
    r = site.client.post(action, data=dict(data, objector_name="   ", contact="abc", content="太短了"))
    assert r.status_code == 422
    html = r.text
    assert 'id="objector_name-error"' in html and "请填写姓名或单位名称。" in html
    assert 'id="contact-error"' in html and "请填写有效的手机号码" in html
    assert 'id="content-error"' in html and "至少 10 个字" in html
    assert 'aria-describedby="contact-hint contact-error" aria-invalid="true"' in html
    assert 'value="abc"' in html and ">太短了</textarea>" in html  # what was typed is kept
    assert "提交未成功，请修改以下 3 处" in html and 'role="alert"' in html
    # the error sits right before its field
    assert html.index('id="contact-error"') < html.index('id="contact" name="contact"')
    r = site.client.post(action, data=dict(data, objector_name="名" * 51, contact="x" * 101, content="字" * 2001))
    assert r.status_code == 422
    assert "不能超过 50 个字" in r.text and "不能超过 100 个字符" in r.text and "不能超过 2000 个字" in r.text
    r = site.client.post(action, data=dict(data, objector_name="<b>张</b>", contact="", content=""))
    assert "&lt;b&gt;张&lt;/b&gt;" in r.text and "<b>张</b>" not in r.text  # escaped
    assert "请填写联系电话或电子邮箱" in r.text and "请填写异议内容。" in r.text
    assert sum(objection_counts(site.get("/").text)) == before  # nothing filed


def test_form_refuses_control_characters_and_bidi_overrides_instead_of_filing_them(site: Site) -> None:
    form = _open_form(site)
    before = sum(objection_counts(site.get("/").text))
    for field, value in (("objector_name", "张\u202e三"), ("contact", "13800138000\x00"),
                         ("content", "申报数据与事实不符\x1b[31m，请核查")):
        r = site.object(form, **{field: value})
        assert r.status_code == 422
        assert f'id="{field}-error"' in r.text and "不可见的控制字符" in r.text
    assert sum(objection_counts(site.get("/").text)) == before  # nothing filed


@pytest.mark.parametrize("contact,ok", [
    ("13800138000", True), ("+86 138-0013-8000", True), ("0731-88888888", True), ("010 12345678", True),
    ("0731-88888888转123", True), ("citizen@example.com", True), ("张三@例子.中国", True),
    ("12345", False), ("abc", False), ("a@b", False), ("138001380001", False),
])
def test_contact_is_a_phone_or_an_email(contact: str, ok: bool) -> None:
    assert valid_contact(contact) is ok


def test_late_objection_is_recorded_but_not_admissible(site: Site) -> None:
    closed = _closed(site)
    platform = closed["platforms"][0]
    form = f"/publicity/{quote(closed['batch_ref'], safe='')}/platforms/{platform['id']}/objections/new"
    page = site.get(form).text
    assert "公示期已于" in page and "不予受理" in page  # told before writing, too
    r = site.object(form)
    assert r.status_code == 200
    end = date.fromisoformat(closed["end_date"])
    assert "异议已记录，但不予受理" in r.text
    assert f"本批次公示期已于 {end.year}年{end.month}月{end.day}日 结束" in r.text
    assert "不予受理（公示期已结束，仅记录）" in r.text
    after = next(b for b in site.batches() if b["batch_ref"] == closed["batch_ref"])["platforms"][0]
    assert after["objections"] == platform["objections"] + 1
    assert after["late_objections"] == platform["late_objections"] + 1


# ------------------------------------------------------------------ protection
def test_csrf_is_required(site: Site) -> None:
    form = _open_form(site)
    action, data = site.form(form)
    fields = dict(data, objector_name=NAME, contact=PHONE, content=CONTENT)
    before = sum(objection_counts(site.get("/").text))
    cookie = site.client.cookies.get(CSRF_COOKIE)
    assert cookie
    site.client.cookies.clear()
    set_cookie = site.client.get(form).headers["set-cookie"].lower()  # a first visit sets the cookie
    assert "samesite=strict" in set_cookie and "httponly" in set_cookie

    def post(data: dict[str, str], nonce: str | None) -> Any:
        site.client.cookies.clear()
        if nonce is not None:
            site.client.cookies.set(CSRF_COOKIE, nonce)
        return site.client.post(action, data=data)

    attempts = [
        post({k: v for k, v in fields.items() if k != "csrf_token"}, cookie),  # no token
        post(fields, None),  # no cookie (another site's post carries none: SameSite=Strict)
        post(dict(fields, csrf_token=fields["csrf_token"][:-1] + ("1" if fields["csrf_token"].endswith("0") else "0")),
             cookie),  # forged: one character changed
        post(fields, Csrf.new_nonce()),  # a token for another browser
        # Issued-at in digits other than ASCII ("²" passes str.isdigit but not int): refused, not a 500.
        *(post(dict(fields, csrf_token=odd + fields["csrf_token"]), cookie) for odd in ("\u00b2", "\uff11", "\u0661")),
        post(dict(fields, csrf_token="1_" + fields["csrf_token"]), cookie),
    ]
    for r in attempts:
        assert r.status_code == 403
        assert "无法提交：表单已过期或来源无法确认" in r.text and r.headers["content-type"].startswith("text/html")
    site.client.cookies.set(CSRF_COOKIE, cookie)
    # An expired token: issued longer ago than max_age.
    csrf = site.client.app.state.page_csrf
    old = Csrf(site.container.settings.secret_key, clock=lambda: 1_000_000.0).token(cookie)
    assert post(dict(fields, csrf_token=old), cookie).status_code == 403
    assert sum(objection_counts(site.get("/").text)) == before
    # The right pair is accepted.
    assert post(dict(fields, csrf_token=csrf.token(cookie)), cookie).status_code == 200


def test_rate_limit_per_client_address(site: Site) -> None:
    now = [1000.0]
    site.client.app.state.objection_limiter = SlidingWindowLimiter(limit=2, window=600, clock=lambda: now[0])
    form = _open_form(site)
    assert site.object(form).status_code == 200
    assert site.object(form, content=CONTENT + "二").status_code == 200
    before = sum(objection_counts(site.get("/").text))
    r = site.object(form, content=CONTENT + "三")
    assert r.status_code == 429
    assert r.headers["retry-after"] == "600"
    assert "提交过于频繁" in r.text and "10 分钟内最多可提交 2 件" in r.text
    assert sum(objection_counts(site.get("/").text)) == before  # refused before anything was written
    # An invalid form does not use up the allowance; another address has its own.
    assert site.object(form, content="短").status_code == 422
    other = TestClient(site.client.app, client=("203.0.113.9", 50000))
    action, data = Site(other, site.container).form(form)
    assert other.post(action, data=dict(data, objector_name=NAME, contact=PHONE, content=CONTENT)).status_code == 200
    now[0] += 601
    assert site.object(form, content=CONTENT + "四").status_code == 200


def test_rate_limit_is_configurable() -> None:
    from api.settings import Settings, SettingsError

    settings = Settings.from_env(env={"PLATFORMS_OBJECTION_RATE_LIMIT": "3", "PLATFORMS_OBJECTION_RATE_WINDOW": "60"})
    assert (settings.objection_rate_limit, settings.objection_rate_window) == (3, 60.0)
    defaults = Settings.from_env(env={})
    assert (defaults.objection_rate_limit, defaults.objection_rate_window) == (5, 600.0)
    off = Settings.from_env(env={"PLATFORMS_OBJECTION_RATE_LIMIT": "0"})
    limiter = SlidingWindowLimiter(off.objection_rate_limit, off.objection_rate_window)
    assert all(limiter.hit("x") is None for _ in range(50))
    with pytest.raises(SettingsError, match="PLATFORMS_OBJECTION_RATE_LIMIT"):
        Settings.from_env(env={"PLATFORMS_OBJECTION_RATE_LIMIT": "many"})


def test_pages_carry_security_headers_and_no_script(site: Site) -> None:
    for path in ("/", "/subfields", "/checkpoint", _open_form(site)):
        r = site.get(path)
        assert "default-src 'none'" in r.headers["content-security-policy"]
        assert r.headers["x-content-type-options"] == "nosniff"
        assert "<script" not in r.text and "http://" not in r.text and "https://cdn" not in r.text
    css = site.get("/static/site.css")
    assert css.status_code == 200 and "focus-visible" in css.text


# ------------------------------------------------------------------ footer
def test_footer_without_a_checkpoint(site: Site, checkpoint_key: Path) -> None:
    for path in ("/", "/subfields", "/checkpoint"):
        html = site.get(path).text
        footer = html.split("<footer")[1]
        assert "尚无签名检查点" in footer and 'href="/checkpoint"' in footer


def test_footer_shows_the_latest_checkpoint_on_every_page(site: Site, checkpoint_key: Path) -> None:
    cp = sign_checkpoint_now(site.container)
    assert site.client.get("/api/v1/audit/checkpoint").json()["root"] == cp.root_hex
    pages = site.public_pages()
    for path, html in pages.items():
        footer = html.split("<footer")[1]
        assert f"<dt>日志条数</dt><dd>{cp.size}</dd>" in footer and cp.root_hex in footer, path
        assert f'datetime="{cp.signed_at}"' in footer and "（北京时间）" in footer
        assert "<dt>尚未纳入的新记录</dt><dd>0 条</dd>" in footer
        assert 'href="/checkpoint"' in footer
    assert site.object(_open_form(site)).status_code == 200  # events written since: not yet covered
    from aggregates.event_table import event_table

    newer = event_table(site.container.app).log_size()[0] - cp.size
    footer = site.get("/").text.split("<footer")[1]
    assert newer > 0 and f"<dd>{cp.size}</dd>" in footer and f"<dt>尚未纳入的新记录</dt><dd>{newer} 条</dd>" in footer
    explained = pages["/checkpoint"]
    assert cp.signature_b64 in explained and "verify_offline.py" in explained

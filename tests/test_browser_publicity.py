"""The public page in a real browser: headless Chromium (Debian's ``chromium`` package) driven by
Playwright's Python package through ``executable_path`` (no browser download).

The app is served by uvicorn in a background thread on 127.0.0.1 and a free port, on a copy of
the demo store (its live batch is open today, Asia/Shanghai). A visitor reads the list, opens
the live batch, sends an invalid form and sees the Chinese messages, files an objection, sees
the receipt and the count change; pages are checked at 360 px and 1280 px, and full-page
screenshots are kept under ``artifacts/screenshots/``. JavaScript is disabled in the browser:
the pages must work without it.

Skips, saying why, when Chromium is absent (``PLATFORMS_CHROMIUM`` or ``/usr/bin/chromium``) or
Playwright is not installed.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from demo_store import copy_demo, make_container
from support import Served

CHROMIUM = os.environ.get("PLATFORMS_CHROMIUM") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"
OBJECTOR = "测试异议人甲乙丙"


def _skip_reason() -> str | None:
    if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)) and shutil.which(CHROMIUM) is None:
        return (f"Chromium not found at {CHROMIUM}: install Debian's package (apt-get install chromium) "
                "or set PLATFORMS_CHROMIUM to a Chromium binary")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright's Python package is not installed (pip install -e '.[test]')"
    return None


def _sign_checkpoint(container: Any, key: Path) -> None:
    from demo_store import sign_checkpoint_now

    saved = {k: os.environ.get(k) for k in ("PLATFORMS_CHECKPOINT_KEY", "PLATFORMS_CHECKPOINT_PUBKEY")}
    os.environ["PLATFORMS_CHECKPOINT_KEY"] = str(key)
    os.environ.pop("PLATFORMS_CHECKPOINT_PUBKEY", None)
    try:
        sign_checkpoint_now(container)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


SKIP_REASON = _skip_reason()
pytestmark = [pytest.mark.browser, pytest.mark.skipif(SKIP_REASON is not None, reason=SKIP_REASON or "")]


@pytest.fixture(scope="module")
def server(demo_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("browser-store")
    store = copy_demo(demo_template, root)
    container = make_container(store)
    _sign_checkpoint(container, root / "keys" / "checkpoint.pem")  # so that the footer shows one
    try:
        with Served(container) as served:
            yield served
    finally:
        container.close()


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright (the browser tests' one launch)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def browser(server: Served) -> Iterator[Any]:
    with chromium() as b:
        yield b


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A phone-sized page (360 px) without JavaScript."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, java_script_enabled=False,
                                  locale="zh-CN", timezone_id="Asia/Shanghai")
    context.set_default_timeout(15_000)
    p = context.new_page()
    try:
        yield p
    finally:
        context.close()


def _width(page: Any) -> int:
    # evaluate() runs even with the page's own scripts disabled.
    return int(page.evaluate("document.documentElement.scrollWidth"))


# WCAG 2.1 contrast of every element that has text of its own, against its nearest opaque
# background (the pages use no images or gradients behind text). Returns the failures.
CONTRAST_JS = """() => {
  const lum = (c) => { const [r, g, b] = c.slice(0, 3).map(v => { v /= 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const rgba = (s) => (s.match(/[\\d.]+/g) || []).map(Number).concat([1]).slice(0, 4);
  const bg = (el) => { for (; el; el = el.parentElement) { const c = rgba(getComputedStyle(el).backgroundColor);
    if (c[3] > 0.99) return c; } return [255, 255, 255, 1]; };
  const bad = [];
  for (const el of document.querySelectorAll("body *")) {
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    const st = getComputedStyle(el);
    if (!own || st.visibility === "hidden" || st.display === "none") continue;
    if (el.closest(".visually-hidden, .skip-link")) continue;
    const a = lum(rgba(st.color)), b = lum(bg(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const label = `${el.tagName}.${el.className}: ${ratio.toFixed(2)} "${el.textContent.trim().slice(0, 20)}"`;
    if (ratio < 4.5) bad.push(label);
  }
  return bad;
}"""


def _shot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    return path


def _count(page: Any, platform_id: str) -> int:
    return int(page.locator(f"#platform-{platform_id} [data-objections]").get_attribute("data-objections"))


def test_read_object_receipt_and_count(server: Served, page: Any) -> None:
    page.goto(server.base + "/")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.get_by_role("heading", level=1).inner_text() == "拟认定平台公示名单"
    batches = page.locator("section.batch")
    assert batches.count() >= 3
    assert "batch-open" in batches.first.get_attribute("class")  # open batches first
    assert "公示中" in batches.first.inner_text() and "剩余工作日" in batches.first.inner_text()
    assert "batch-closed" in batches.last.get_attribute("class")

    # Read the live batch.
    batches.first.get_by_role("heading", level=2).get_by_role("link").click()
    page.wait_for_load_state()
    assert "/publicity/" in page.url
    batch_url = page.url
    first = page.locator("li.platform").first
    platform_id = first.get_attribute("id").removeprefix("platform-")
    name = first.get_by_role("heading").inner_text()
    before = _count(page, platform_id)
    assert first.get_by_text("依托单位").is_visible() and first.get_by_text("细分领域").is_visible()

    # An invalid form: the messages in Chinese beside the fields, what was typed kept.
    first.get_by_role("link", name=re.compile("对此平台提出异议")).click()
    page.wait_for_load_state()
    assert name in page.locator("main").inner_text()
    page.get_by_label("联系方式").fill("不是电话")
    page.get_by_label("异议内容").fill("太短")
    page.get_by_role("button", name="提交异议").click()
    page.wait_for_load_state()
    assert page.locator(".error-summary").is_visible()
    assert page.locator("#objector_name-error").inner_text().endswith("请填写姓名或单位名称。")
    assert "有效的手机号码" in page.locator("#contact-error").inner_text()
    assert "至少 10 个字" in page.locator("#content-error").inner_text()
    assert page.get_by_label("联系方式").input_value() == "不是电话"
    assert page.get_by_label("异议内容").input_value() == "太短"
    assert page.get_by_label("姓名或单位名称").get_attribute("aria-invalid") == "true"
    assert "contact-error" in page.get_by_label("联系方式").get_attribute("aria-describedby")
    assert _width(page) <= 360
    _shot(page, "objection-form-errors-360")

    # A valid one: the receipt.
    page.get_by_label("姓名或单位名称").fill(OBJECTOR)
    page.get_by_label("联系方式").fill("0731-88886666")
    page.get_by_label("异议内容").fill("反映该平台申报的开放服务企业数量与实际情况不符，请予核实。")
    page.get_by_role("button", name="提交异议").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "异议已收到"
    receipt = page.locator(".receipt-facts").inner_text()
    number = page.locator(".objection-no").get_attribute("data-objection-id")
    assert number == str(before + 1)
    from aggregates.clock import today_in_shanghai

    today = today_in_shanghai()
    assert f"{today.year}年{today.month}月{today.day}日" in receipt
    assert OBJECTOR not in page.content() and "88886666" not in page.content()
    assert _width(page) <= 360
    _shot(page, "receipt-360")

    # Back to the batch: the count went up; nobody's identity anywhere.
    page.get_by_role("link", name="返回公示批次").click()
    page.wait_for_load_state()
    assert page.url.split("#")[0] == batch_url
    assert _count(page, platform_id) == before + 1
    assert OBJECTOR not in page.content()
    page.goto(server.base + "/")
    assert OBJECTOR not in page.content()


@pytest.mark.parametrize("width", [360, 1280])
def test_pages_fit_and_screenshots(server: Served, browser: Any, width: int) -> None:
    context = browser.new_context(viewport={"width": width, "height": 800}, java_script_enabled=False,
                                  locale="zh-CN")
    try:
        page = context.new_page()
        for path, name in [("/", "publicity"), ("/subfields", "subfields"), ("/checkpoint", "checkpoint"),
                           ("/problems/", "problems"), ("/problems/subfield_taken", "problem")]:
            page.goto(server.base + path)
            assert page.locator("header").count() == 1 and page.locator("main").count() == 1
            assert page.locator("footer").count() == 1 and page.locator("nav").count() >= 1
            assert "最新签名检查点" in page.locator("footer").inner_text()
            assert _width(page) <= width, f"{path} is wider than {width} px"
            assert page.evaluate(CONTRAST_JS) == [], f"text below 4.5:1 on {path}"
            _shot(page, f"{name}-{width}")
        page.goto(server.base + "/")
        page.locator("section.batch").first.get_by_role("heading", level=2).get_by_role("link").click()
        page.wait_for_load_state()
        assert _width(page) <= width
        _shot(page, f"batch-{width}")
        page.get_by_role("link", name=re.compile("对此平台提出异议")).first.click()
        page.wait_for_load_state()
        assert _width(page) <= width
        assert page.evaluate(CONTRAST_JS) == []
        _shot(page, f"objection-form-{width}")
        page.goto(server.base + "/subfields")
        assert page.locator("table.subfields tbody tr").count() == 18
        # The contrast check itself notices pale text.
        page.evaluate("document.querySelector('h1').style.color = '#aaaaaa'")
        assert any(item.startswith("H1") for item in page.evaluate(CONTRAST_JS))
    finally:
        context.close()


def test_keyboard_skip_link_and_focus(server: Served, page: Any) -> None:
    page.goto(server.base + "/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused.strip() == "跳到正文"
    assert page.locator(".skip-link").bounding_box()["y"] >= 0  # shown when focused
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    # Tabbing on reaches the first link of the content, with a visible focus indicator.
    page.keyboard.press("Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert page.evaluate("document.activeElement.closest('main') !== null")
    assert outline != "none"


# The dates the browser laid out over more than one line: a <time> holding a date, or the date
# or the time of day of an instant (which may break between the two, never inside either).
BROKEN_DATES_JS = """() => [...document.querySelectorAll(
    'time:not(.instant), time.instant .date, time.instant .clock')]
  .filter(t => t.getClientRects().length > 1).map(t => t.textContent)"""


def test_dates_never_break_inside_a_date_at_360px(server: Served, page: Any) -> None:
    page.goto(server.base + "/")
    batch = page.locator("section.batch h2 a").first.get_attribute("href")
    for path in ("/", batch, "/subfields", "/checkpoint"):
        page.goto(server.base + str(path))
        assert page.locator("time").count() > 0, path
        assert page.evaluate(BROKEN_DATES_JS) == [], path
    # The check notices a date that wraps: squeeze one into a narrow box and let it break.
    page.goto(server.base + "/")
    page.evaluate("""() => { const t = document.querySelector('main time:not(.instant)');
        t.style.whiteSpace = 'normal'; t.parentElement.style.display = 'block';
        t.parentElement.style.width = '3em'; }""")
    assert page.evaluate(BROKEN_DATES_JS) != []

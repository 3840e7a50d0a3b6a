"""The API documentation in a real browser, with no internet: headless Chromium with JavaScript
on, every request to another host refused. Swagger UI (``/docs``) and ReDoc (``/redoc``) must
render the registry's routes from this server's files alone, under their Content-Security-Policy
(a violation shows in the browser's console), and ask nothing of another host.

Skips, saying why, when Chromium or Playwright is absent (as ``test_browser_publicity`` does).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from api_client import served_api
from support import Served
from test_browser_publicity import CHROMIUM, CHROMIUM_ARGS, SKIP_REASON

REDOCLY_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
pytestmark = [pytest.mark.browser, pytest.mark.skipif(SKIP_REASON is not None, reason=SKIP_REASON or "")]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with served_api(tmp_path_factory.mktemp("docs-browser")) as (served, _):
        yield served


@pytest.fixture
def offline_page(server: Served) -> Iterator[tuple[Any, list[str], list[str]]]:
    """A page with JavaScript on, on a network where only this server answers; with the
    requests it tried elsewhere and its console errors (CSP violations among them)."""
    from playwright.sync_api import sync_playwright

    elsewhere: list[str] = []
    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
            context.set_default_timeout(30_000)

            def route(r: Any) -> None:
                url = r.request.url
                if url.startswith(server.base + "/") or url.startswith(("blob:", "data:")):
                    r.continue_()
                else:
                    elsewhere.append(url)
                    r.abort()

            context.route("**/*", route)
            page = context.new_page()
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            yield page, elsewhere, problems
        finally:
            browser.close()


def test_swagger_ui_renders_the_routes_offline(server: Served, offline_page: tuple[Any, list[str], list[str]]) -> None:
    page, elsewhere, problems = offline_page
    page.goto(server.base + "/docs")
    page.locator(".opblock").first.wait_for()
    assert page.locator(".opblock-summary-path", has_text="/api/v1/funding-ledger/by-year.xlsx").count() == 1
    assert page.locator(".opblock").count() > 30
    page.wait_for_load_state("networkidle")
    assert elsewhere == [] and problems == []


def test_redoc_renders_the_routes_offline(server: Served, offline_page: tuple[Any, list[str], list[str]]) -> None:
    page, elsewhere, problems = offline_page
    page.goto(server.base + "/redoc")
    page.get_by_role("heading", level=1).first.wait_for()
    assert "Platform registry" in page.get_by_role("heading", level=1).first.inner_text()
    page.locator("h2", has_text="Funding ledger by fiscal year as XLSX").first.wait_for()
    page.wait_for_load_state("networkidle")
    # ReDoc always shows Redocly's logo from its CDN beside "API docs by Redocly" (no option
    # turns it off); the page's policy refuses it before any request leaves the browser, and
    # ReDoc hides the broken image. That refusal is the only console error.
    refused = [p for p in problems if REDOCLY_LOGO in p]
    assert len(refused) == 1 and "Content Security Policy" in refused[0]
    assert elsewhere == [] and [p for p in problems if REDOCLY_LOGO not in p] == []
    assert page.locator(f'img[src="{REDOCLY_LOGO}"]').count() == 0

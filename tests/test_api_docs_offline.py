"""The API documentation pages work on a network without the internet: ``/docs`` (Swagger UI)
and ``/redoc`` (ReDoc) load their scripts and styles from this server only (files installed with
the ``fastapi-offline`` package), and their Content-Security-Policy allows nothing from
elsewhere."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path

import pytest

from api_client import Api, make_api

PAGES = ("/docs", "/redoc", "/docs/oauth2-redirect")
CDN_HINTS = ("cdn.", "jsdelivr", "unpkg", "googleapis", "gstatic", "cdnjs", "tiangolo", "validator.swagger.io")


class _Refs(HTMLParser):
    """Every URL a page makes the browser fetch (scripts, styles, icons, images, frames), and
    its inline scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        for name in ("src", "href", "spec-url"):
            if a.get(name):
                self.urls.append(str(a[name]))
        self._in_script = tag == "script" and not a.get("src")

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_scripts.append(data)


@pytest.fixture(scope="module")
def docs_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    # The pages do not depend on the store: one SQLite store serves every test here.
    tmp: Path = tmp_path_factory.mktemp("docs")
    api, container = make_api(f"sqlite:///{tmp / 'events.sqlite3'}", tmp)
    with api.client:
        yield api
    container.close()


def _refs(html: str) -> _Refs:
    parser = _Refs()
    parser.feed(html)
    return parser


@pytest.mark.parametrize("path", PAGES)
def test_docs_pages_reference_only_this_server(docs_api: Api, path: str) -> None:
    r = docs_api.client.get(path)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    refs = _refs(r.text)
    for url in refs.urls:
        assert url.startswith("/") and not url.startswith("//"), url  # a path on this server
    # Nothing on the page, scripts included, names another host.
    assert "http://" not in r.text and "https://" not in r.text
    assert not [hint for hint in CDN_HINTS if hint in r.text]


@pytest.mark.parametrize(("path", "assets"), [
    ("/docs", {"/docs-assets/swagger-ui-bundle.js", "/docs-assets/swagger-ui.css", "/static/favicon.svg"}),
    ("/redoc", {"/docs-assets/redoc.standalone.js", "/static/favicon.svg", "/openapi.json"}),
])
def test_each_asset_a_docs_page_loads_is_served_here(docs_api: Api, path: str, assets: set[str]) -> None:
    urls = set(_refs(docs_api.client.get(path).text).urls)
    assert assets <= urls
    types = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml", ".json": "application/json"}
    for url in urls:
        r = docs_api.client.get(url)
        assert r.status_code == 200, url
        assert r.headers["content-type"].split(";")[0] == types[Path(url).suffix], url
        assert len(r.content) > 100, url
    if path == "/docs":
        bundle = docs_api.client.get("/docs-assets/swagger-ui-bundle.js").text
        assert "SwaggerUIBundle" in bundle
        assert '"openapi_url"' not in bundle  # the library, not a page
    else:
        assert "Redoc" in docs_api.client.get("/docs-assets/redoc.standalone.js").text


def test_swagger_ui_reads_this_servers_openapi_document(docs_api: Api) -> None:
    script = "".join(_refs(docs_api.client.get("/docs").text).inline_scripts)
    assert "url: '/openapi.json'" in script
    assert '"validatorUrl": null' in script  # no badge image from the online validator
    assert "/api/v1/funding-ledger" in docs_api.client.get("/openapi.json").json()["paths"]


@pytest.mark.parametrize("path", PAGES)
def test_docs_csp_allows_this_origin_and_the_pages_own_inline_script_only(docs_api: Api, path: str) -> None:
    r = docs_api.client.get(path)
    csp = dict(d.strip().split(" ", 1) for d in r.headers["content-security-policy"].split(";"))
    assert csp["default-src"] == "'none'"
    assert csp["connect-src"] == "'self'" and csp["frame-ancestors"] == "'none'"
    for directive in csp.values():
        # No other host, no scheme wildcard, no eval: only 'self', data: images, blob: workers.
        assert not re.search(r"https?:|\*|unsafe-eval|//", directive), directive
    allowed = set(csp["script-src"].split()) - {"'self'"}
    expected = {f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'"
                for s in _refs(r.text).inline_scripts}
    assert allowed == expected and "'unsafe-inline'" not in allowed
    assert (path == "/redoc") == (not expected)  # ReDoc starts itself from its <redoc> element
    assert r.headers["x-content-type-options"] == "nosniff"


def test_docs_assets_are_installed_with_the_package() -> None:
    """The assets come from an installed package, not from a file in this checkout."""
    static = resources.files("fastapi_offline") / "static"
    for name in ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js"):
        assert (static / name).is_file(), name


def test_no_asset_outside_the_docs_folder(docs_api: Api) -> None:
    assert docs_api.client.get("/docs-assets/../core.py").status_code == 404
    assert docs_api.client.get("/docs-assets/core.py").status_code == 404

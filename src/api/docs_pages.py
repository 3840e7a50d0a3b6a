"""The API documentation pages, served without the internet: ``/docs`` (Swagger UI) and
``/redoc`` (ReDoc).

FastAPI's own pages load Swagger UI and ReDoc from a CDN, which the bureau's offline network
cannot reach. Their JavaScript and CSS come here from the ``fastapi-offline`` package (its
``static`` folder, installed with it: Swagger UI 5, ReDoc 2), mounted at :data:`ASSETS_URL`, and
the pages are FastAPI's documented ones pointed at those files ("Self-hosting JavaScript and CSS
for docs"): nothing on them names another host. Swagger UI's online validator badge (an image
from validator.swagger.io) and ReDoc's Google fonts are turned off for the same reason.

Each page carries a Content-Security-Policy that allows exactly what it needs from this origin
and nothing from elsewhere: its scripts from here, plus its one inline start-up script by hash;
styles from here and inline (both libraries set style attributes as they render); images from
here and ``data:`` (Swagger UI's icons); requests (the OpenAPI document, "Try it out") to here;
ReDoc's search worker from a ``blob:`` it builds itself. ReDoc's bundle always shows Redocly's
logo from Redocly's CDN beside "API docs by Redocly" (no option turns it off): the policy
refuses it before any request leaves the browser, and ReDoc hides the broken image
(``tests/test_browser_docs.py`` checks both pages in Chromium with every other host cut off).
"""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse

DOCS_URL = "/docs"
REDOC_URL = "/redoc"
OAUTH2_REDIRECT_URL = "/docs/oauth2-redirect"
ASSETS_URL = "/docs-assets"
ASSETS_PACKAGE = ("fastapi_offline", "static")  # (package, folder) as Starlette's StaticFiles takes it
FAVICON_URL = "/static/favicon.svg"

_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def docs_csp(html: str) -> str:
    """The Content-Security-Policy of a docs page: only this origin, and the page's own inline
    scripts by their SHA-256 (so no other inline script runs)."""
    hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(s.encode('utf-8')).digest()).decode()}'"
                      for s in _INLINE_SCRIPT.findall(html))
    return (f"default-src 'none'; script-src 'self' {hashes}".rstrip() + "; "
            "style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; "
            "connect-src 'self'; worker-src 'self' blob:; form-action 'self'; frame-ancestors 'none'; "
            "base-uri 'none'")


def _secured(page: HTMLResponse) -> HTMLResponse:
    page.headers["Content-Security-Policy"] = docs_csp(bytes(page.body).decode("utf-8"))
    page.headers["X-Content-Type-Options"] = "nosniff"
    page.headers["Referrer-Policy"] = "same-origin"
    return page


def install(app: FastAPI) -> None:
    """Add the docs pages and their assets to ``app`` (created with ``docs_url=None,
    redoc_url=None``, so that FastAPI adds no CDN-bound pages of its own)."""
    openapi_url = app.openapi_url or "/openapi.json"
    app.mount(ASSETS_URL, StaticFiles(packages=[ASSETS_PACKAGE]), name="docs-assets")

    @app.get(DOCS_URL, include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return _secured(get_swagger_ui_html(
            openapi_url=openapi_url, title=f"{app.title} - Swagger UI", oauth2_redirect_url=OAUTH2_REDIRECT_URL,
            swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js", swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=FAVICON_URL, swagger_ui_parameters={"validatorUrl": None}))

    @app.get(OAUTH2_REDIRECT_URL, include_in_schema=False)
    def swagger_ui_redirect() -> HTMLResponse:
        return _secured(get_swagger_ui_oauth2_redirect_html())

    @app.get(REDOC_URL, include_in_schema=False)
    def redoc() -> HTMLResponse:
        return _secured(get_redoc_html(openapi_url=openapi_url, title=f"{app.title} - ReDoc",
                                       redoc_js_url=f"{ASSETS_URL}/redoc.standalone.js",
                                       redoc_favicon_url=FAVICON_URL, with_google_fonts=False))


__all__ = ["install", "docs_csp", "DOCS_URL", "REDOC_URL", "ASSETS_URL", "OAUTH2_REDIRECT_URL"]

"""HTTP caching and cross-origin reading (HTTP 缓存与跨域读取), for every GET route in one place.

Each route's caching is declared in :data:`ROUTE_CACHING` by its path template, so that a
reviewer reads in one table what may be kept where: the public lists for a minute by anyone
(browsers, proxies, newsrooms' scripts), anything behind a role never in a shared cache
(``private, no-store``), the public pages kept but revalidated on each visit (``no-cache``),
answers about *now* (health, verification) nowhere at all. A GET route
missing from the table is answered ``no-store`` (never cached by accident) and fails
``tests/test_http_caching.py``.

:class:`HttpCaching` (ASGI middleware) then, for every GET:

* gives a complete 200 response a **strong ETag** unless the route set one (a read-model body
  carries the tag :mod:`api.read_cache` computed once with it; ``GET /platforms/{id}`` its
  version, which ``If-Match`` takes back), else the SHA-256 of the body: the tag changes exactly
  when the bytes do;
* answers ``If-None-Match`` (``*``, or a list of tags compared weakly, RFC 9110 §13.1.2) with
  304 and no body;
* sets ``Cache-Control`` and ``Vary`` per route (errors and redirects: ``no-store``; a handler's
  own ``no-store`` is never loosened);
* lets any origin read the **public** reads (CORS: ``Access-Control-Allow-Origin: *``, no
  credentials) and answers their preflight; commands and private reads get no CORS header at
  all, so a browser on another site can neither read them nor send them with a token.
  Starlette's ``CORSMiddleware`` applies to the whole app, hence this per-route rule.

Streams (the audit export) are passed through with their headers only: hashing them would mean
holding the whole log in memory. So are the static files, which ``StaticFiles`` tags and
validates itself.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from fastapi.routing import iter_route_contexts
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

API = "/api/v1"


@dataclass(frozen=True)
class Caching:
    """How one route's responses may be kept and read from elsewhere."""

    cache_control: str
    vary: tuple[str, ...] = ()
    cors: bool = False  # readable by any origin (public data; never with credentials)
    validators: bool = True  # ETag and 304; False for streams


PUBLIC_READ = Caching("public, max-age=60", cors=True)
PUBLIC_READ_BY_ACCEPT = Caching("public, max-age=60", vary=("Accept",), cors=True)
# A page is kept but asked after every time (304 when unchanged): a citizen who has just
# objected goes back to the batch and must see the count with the objection in it.
PUBLIC_PAGE = Caching("public, no-cache")
PROBLEM_PAGE = Caching("public, no-cache", vary=("Accept", "Accept-Language"))
PRIVATE_READ = Caching("private, no-store", vary=("Authorization",))
STAFF_PAGE = Caching("no-store", vary=("Cookie",))  # a signed-in person's page: kept nowhere
NOW = Caching("no-store")  # an answer about this moment, or a form carrying a one-time token
STREAM = Caching("no-store", validators=False)
# Files: StaticFiles sends their ETag and answers If-None-Match itself, and may hand the file
# to the server whole (``http.response.pathsend``): never held here.
STATIC = Caching("public, max-age=3600", validators=False)

ROUTE_CACHING: dict[str, Caching] = {
    # The JSON API: public lists and their open-data forms.
    f"{API}/publicity-list": PUBLIC_READ,
    f"{API}/publicity-list.csv": PUBLIC_READ,
    f"{API}/publicity-list.atom": PUBLIC_READ,
    f"{API}/subfields": PUBLIC_READ,
    f"{API}/subfields.csv": PUBLIC_READ,
    f"{API}/policies": PUBLIC_READ,
    f"{API}/audit/checkpoint": PUBLIC_READ_BY_ACCEPT,  # JSON, or the signed note as text/plain
    f"{API}/audit/checkpoints": PUBLIC_READ,
    f"{API}/audit/proofs/consistency": PUBLIC_READ,
    "/openapi.json": PUBLIC_READ,
    # Role-gated reads: what they show depends on who asks.
    f"{API}/platforms": PRIVATE_READ,
    f"{API}/platforms/{{platform_id}}": PRIVATE_READ,
    f"{API}/platforms/{{platform_id}}/history": PRIVATE_READ,
    f"{API}/platforms/{{platform_id}}/diff": PRIVATE_READ,
    f"{API}/funding-ledger": PRIVATE_READ,
    f"{API}/funding-ledger.csv": PRIVATE_READ,
    f"{API}/funding-ledger/by-year": PRIVATE_READ,
    f"{API}/funding-ledger/by-year.csv": PRIVATE_READ,
    f"{API}/funding-ledger/by-year.xlsx": PRIVATE_READ,
    f"{API}/deadlines": PRIVATE_READ,
    f"{API}/audit/log": PRIVATE_READ,
    f"{API}/audit/proofs/inclusion": PRIVATE_READ,
    f"{API}/audit/publicity-list": PRIVATE_READ,
    f"{API}/audit/funding-ledger": PRIVATE_READ,
    f"{API}/audit/verify": NOW,
    f"{API}/audit/export": STREAM,
    f"{API}/healthz": NOW,
    f"{API}/readyz": NOW,
    "/metrics": NOW,  # the operator's Prometheus scrapes the figures of this moment
    # Pages for people.
    "/": PUBLIC_PAGE,
    "/publicity/{batch_ref}": PUBLIC_PAGE,
    "/publicity/{batch_ref}/platforms/{platform_id}/objections/new": NOW,
    "/publicity/{batch_ref}/platforms/{platform_id}/objections": NOW,
    "/subfields": PUBLIC_PAGE,
    "/checkpoint": PUBLIC_PAGE,
    # The problem codes' pages (the ``type`` of every error), HTML or JSON by Accept.
    "/problems": PROBLEM_PAGE,
    "/problems/": PROBLEM_PAGE,
    "/problems/{code}": PROBLEM_PAGE,
    "/docs": PUBLIC_PAGE,
    "/docs/oauth2-redirect": PUBLIC_PAGE,
    "/redoc": PUBLIC_PAGE,
    "/staff": STAFF_PAGE,
    "/staff/": STAFF_PAGE,
    "/staff/login": NOW,
    "/staff/platforms/{platform_id}": STAFF_PAGE,
    "/staff/acts/": STAFF_PAGE,
    "/staff/acts/{act_key}": STAFF_PAGE,
    "/staff/platforms/{platform_id}/acts/{act_key}": STAFF_PAGE,
    "/staff/ledger": STAFF_PAGE,
    "/staff/ledger.csv": STAFF_PAGE,
    "/staff/ledger.xlsx": STAFF_PAGE,
    "/staff/audit": STAFF_PAGE,
    "/staff/audit/export": STREAM,
}
# Mounted file trees, by prefix: the stylesheet's address carries its hash, the rest change rarely.
MOUNT_CACHING: dict[str, Caching] = {"/static": STATIC, "/docs-assets": STATIC}

# What a cross-origin script may send and read on a public read.
CORS_METHODS = "GET"
CORS_REQUEST_HEADERS = "Accept, Accept-Language, If-None-Match"
CORS_EXPOSED = "ETag, Content-Disposition, Retry-After"
CORS_MAX_AGE = "86400"

# Sent again on a 304 (RFC 9110 §15.4.5): the rest describes a body that is not sent.
_REPRESENTATION = {b"content-length", b"content-type", b"content-disposition", b"content-encoding",
                   b"content-language"}
_TAG = re.compile(r'[ \t]*(W/)?"([\x21\x23-\x7e\x80-\xff]*)"[ \t]*(?:,|$)')


def entity_tag(body: bytes) -> str:
    """The strong ETag of a body: its SHA-256, so two bodies share a tag only if equal."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def none_match(header: str, etag: str) -> bool:
    """Whether ``If-None-Match: header`` matches ``etag`` (RFC 9110 §13.1.2: ``*`` matches any
    current representation; tags are compared weakly, ``W/"x"`` matching ``"x"``). A header
    that does not parse matches nothing, so the full response is sent."""
    text = header.strip()
    if text == "*":
        return True
    opaque = etag.removeprefix("W/")
    pos = 0
    while pos < len(text):
        if text[pos] in ", \t":
            pos += 1
            continue
        found = _TAG.match(text, pos)
        if found is None:
            return False
        if f'"{found.group(2)}"' == opaque:
            return True
        pos = found.end()
    return False


def route_templates(routes: Iterable[Any]) -> dict[int, str]:
    """Each route object's full path template (with its router's prefix), by ``id``."""
    return {id(ctx.original_route): ctx.path for ctx in iter_route_contexts(list(routes)) if ctx.path}


def get_templates(routes: Iterable[Any]) -> list[str]:
    """Every GET route's full path template (what :data:`ROUTE_CACHING` must cover)."""
    return sorted({ctx.path for ctx in iter_route_contexts(list(routes)) if ctx.path and "GET" in (ctx.methods or ())})


def _header(scope: Scope, name: bytes) -> str | None:
    values = [v.decode("latin-1") for k, v in scope.get("headers") or [] if k == name]
    return ", ".join(values) if values else None


class HttpCaching:
    """ASGI middleware: ETags, 304, Cache-Control, Vary and CORS per :data:`ROUTE_CACHING`."""

    def __init__(self, app: ASGIApp, router: Any) -> None:
        self.app = app
        self.router = router
        self._templates: dict[int, str] | None = None
        self._cors_paths: list[re.Pattern[str]] | None = None

    def _template_of(self, route: Any) -> str | None:
        if self._templates is None:  # every route is registered by the first request
            self._templates = route_templates(self.router.routes)
        return self._templates.get(id(route))

    def caching_for(self, scope: Scope) -> Caching:
        route = scope.get("route")
        template = self._template_of(route) if route is not None else None
        if template is not None:
            return ROUTE_CACHING.get(template, NOW)
        # Starlette's own routes (FastAPI's /openapi.json) leave no route in the scope: their
        # paths have no parameters. Mounts name themselves by the root path they set.
        exact = ROUTE_CACHING.get(scope["path"])
        return exact if exact is not None else MOUNT_CACHING.get(scope.get("root_path", ""), NOW)

    def _public_path(self, path: str) -> bool:
        if self._cors_paths is None:
            self._cors_paths = [compile_path(t)[0] for t in get_templates(self.router.routes)
                                if ROUTE_CACHING.get(t, NOW).cors]
        return any(p.match(path) for p in self._cors_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        if method == "OPTIONS" and _header(scope, b"origin") and _header(scope, b"access-control-request-method"):
            if self._public_path(scope["path"]):
                await _send_preflight(send)
                return
        if method not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        await _Exchange(self, scope, send).run(self.app, receive)


async def _send_preflight(send: Send) -> None:
    """The answer to a preflight of a public read: GET from any origin, without credentials."""
    headers = [(b"access-control-allow-origin", b"*"),
               (b"access-control-allow-methods", CORS_METHODS.encode()),
               (b"access-control-allow-headers", CORS_REQUEST_HEADERS.encode()),
               (b"access-control-max-age", CORS_MAX_AGE.encode()),
               (b"cache-control", b"public, max-age=86400"),
               (b"content-length", b"0")]
    await send({"type": "http.response.start", "status": 204, "headers": headers})
    await send({"type": "http.response.body", "body": b""})


class _Exchange:
    """One GET: its response's headers completed, its body held (when tagged here) until the
    ETag and ``If-None-Match`` decide between 200 and 304."""

    def __init__(self, owner: HttpCaching, scope: Scope, send: Send) -> None:
        self.owner, self.scope, self.send = owner, scope, send
        self.start: Message | None = None
        self.chunks: list[bytes] = []
        self.holding = False

    async def run(self, app: ASGIApp, receive: Receive) -> None:
        await app(self.scope, receive, self.relay)

    async def relay(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            caching = self.owner.caching_for(self.scope)
            status = message["status"]
            headers = _with_policy(list(message.get("headers") or []), caching, status)
            message = {**message, "headers": headers}
            if status == 200 and caching.validators:
                self.start, self.holding = message, True
                return
            await self.send(message)
            return
        if message["type"] == "http.response.body" and self.holding:
            self.chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            await self._finish()
            return
        await self.send(message)

    async def _finish(self) -> None:
        assert self.start is not None
        body = b"".join(self.chunks)
        headers: list[tuple[bytes, bytes]] = self.start["headers"]
        etag = next((v.decode("latin-1") for k, v in headers if k == b"etag"), None)
        if etag is None:
            etag = entity_tag(body)
            headers.append((b"etag", etag.encode("latin-1")))
        condition = _header(self.scope, b"if-none-match")
        if condition is not None and none_match(condition, etag):
            kept = [(k, v) for k, v in headers if k not in _REPRESENTATION]
            await self.send({"type": "http.response.start", "status": 304, "headers": kept})
            await self.send({"type": "http.response.body", "body": b""})
            return
        await self.send(self.start)
        await self.send({"type": "http.response.body", "body": body})


def _with_policy(headers: list[tuple[bytes, bytes]], caching: Caching, status: int) -> list[tuple[bytes, bytes]]:
    """``headers`` with the route's Cache-Control (``no-store`` for anything but a success or a
    304; a handler's own ``no-store`` kept), Vary and, on a public read, CORS."""
    own = next((v for k, v in headers if k == b"cache-control"), None)
    headers = [(k, v) for k, v in headers if k != b"cache-control"]
    if status in (200, 304):
        control = caching.cache_control.encode()
        if own is not None and b"no-store" in own and b"no-store" not in control:
            control = own  # the handler knows this answer must not be kept (a one-time token)
    else:
        control = own or b"no-store"
    headers.append((b"cache-control", control))
    if caching.vary:
        present = [v.decode("latin-1") for k, v in headers if k == b"vary"]
        names = [n.strip() for v in present for n in v.split(",") if n.strip()]
        names += [n for n in caching.vary if n.lower() not in {x.lower() for x in names}]
        headers = [(k, v) for k, v in headers if k != b"vary"]
        headers.append((b"vary", ", ".join(names).encode("latin-1")))
    if caching.cors:
        # Sent whether or not the request named an origin: a cached copy then serves both.
        headers.append((b"access-control-allow-origin", b"*"))
        headers.append((b"access-control-expose-headers", CORS_EXPOSED.encode()))
    return headers


__all__ = ["Caching", "HttpCaching", "ROUTE_CACHING", "MOUNT_CACHING", "entity_tag", "none_match",
           "get_templates"]

"""Protection of the public page's form: CSRF tokens, a per-address rate limit, page headers.

**CSRF** (a form that works without JavaScript needs a server-issued token): a signed
double-submit token. The browser holds a random nonce in the cookie ``csrf_nonce``
(``HttpOnly``, ``SameSite=Strict``, ``Secure`` over HTTPS); the form carries
``<issued>.<HMAC-SHA256(key, nonce|issued)>`` in a hidden field, where ``key`` is derived from
the service's secret key (``PLATFORMS_SECRET_KEY``) with its own label, so a CSRF token can
never be mistaken for anything else signed with that secret. A post is accepted only when the
cookie is present, the field's signature matches that cookie's nonce, and the token is younger
than ``max_age`` seconds. Another site can neither read the cookie nor forge the signature, and
with ``SameSite=Strict`` its cross-site post does not even carry the cookie.

**Rate limit**: objections per client address in a sliding window (default 5 per 10 minutes).
On SQLite, where one API process serves, the counts are in memory, for at most ``max_keys``
addresses (the least recently seen are forgotten first, so a flood of addresses cannot exhaust
memory). On PostgreSQL, where several workers serve, they are in a table all workers share
(:mod:`api.shared_limiter`). The client address is the connection's peer as the ASGI server
reports it; ``platforms serve`` lets uvicorn replace it with ``X-Forwarded-For`` only when the
peer is a proxy named in ``PLATFORMS_TRUSTED_PROXIES``. The header is never read here: anyone
can send it.
Configure with ``PLATFORMS_OBJECTION_RATE_LIMIT`` (objections, default 5; 0 disables) and
``PLATFORMS_OBJECTION_RATE_WINDOW`` (seconds, default 600).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from fastapi import Request
from starlette.responses import Response

from .inputs import ascii_int

CSRF_COOKIE = "csrf_nonce"
CSRF_FIELD = "csrf_token"
CSRF_MAX_AGE = 4 * 3600  # a form left open over lunch still posts

# No script at all; styles and images only from here; forms post only here; never framed.
CONTENT_SECURITY_POLICY = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
                           "frame-ancestors 'none'; base-uri 'none'")


class Limiter(Protocol):
    limit: int  # hits per key
    window: float  # within so many seconds

    def hit(self, key: str) -> float | None:
        """None when allowed (and counted), else the seconds until a hit would be."""


class CsrfError(Exception):
    """A form post without a valid token; ``reason`` is for the log, not the visitor."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Csrf:
    """Issue and check signed double-submit tokens (see the module docstring)."""

    def __init__(self, secret_key: str, max_age: int = CSRF_MAX_AGE, clock: Callable[[], float] = time.time,
                 previous: str = "") -> None:
        # A form served before a rotation of the secret key is still accepted while the previous
        # key is configured (PLATFORMS_PREVIOUS_SECRET_KEY).
        self._keys = [hmac.new(secret.encode("utf-8"), b"platform-registry page csrf v1", hashlib.sha256).digest()
                      for secret in (secret_key, previous) if secret]
        self.max_age = max_age
        self.clock = clock

    def _sign(self, nonce: str, issued: int, key: bytes | None = None) -> str:
        return hmac.new(key or self._keys[0], f"{nonce}|{issued}".encode("ascii"), hashlib.sha256).hexdigest()

    @staticmethod
    def new_nonce() -> str:
        return secrets.token_urlsafe(24)

    def nonce_of(self, request: Request) -> tuple[str, bool]:
        """The request's nonce, and whether it is new (the response must then set the cookie)."""
        nonce = request.cookies.get(CSRF_COOKIE, "")
        if _plausible_nonce(nonce):
            return nonce, False
        return self.new_nonce(), True

    def token(self, nonce: str) -> str:
        issued = int(self.clock())
        return f"{issued}.{self._sign(nonce, issued)}"

    def check(self, request: Request, token: str | None) -> None:
        """Raise :class:`CsrfError` unless ``token`` was issued for this browser's cookie."""
        nonce = request.cookies.get(CSRF_COOKIE, "")
        if not _plausible_nonce(nonce):
            raise CsrfError("no csrf cookie")
        if not token or "." not in token or len(token) > 100:
            raise CsrfError("no csrf token")
        issued_raw, signature = token.split(".", 1)
        issued = ascii_int(issued_raw, 12)
        if issued is None:
            raise CsrfError("malformed csrf token")
        if not any(hmac.compare_digest(signature, self._sign(nonce, issued, key)) for key in self._keys):
            raise CsrfError("csrf token does not match the cookie")
        age = self.clock() - issued
        if age < -60 or age > self.max_age:
            raise CsrfError("csrf token expired")

    @staticmethod
    def set_cookie(request: Request, response: Response, nonce: str) -> None:
        response.set_cookie(CSRF_COOKIE, nonce, httponly=True, samesite="strict", path="/",
                            secure=request.url.scheme == "https")


def _plausible_nonce(nonce: str) -> bool:
    return 16 <= len(nonce) <= 64 and all(ch.isalnum() or ch in "-_" for ch in nonce)


@dataclass
class SlidingWindowLimiter:
    """At most ``limit`` hits per key within any ``window`` seconds (0 = no limit), for at most
    ``max_keys`` keys."""

    limit: int = 5
    window: float = 600.0
    clock: Callable[[], float] = time.monotonic
    _hits: OrderedDict[str, deque[float]] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    max_keys: int = 100_000

    def hit(self, key: str) -> float | None:
        """Count one hit for ``key``: None when allowed, else the seconds until the next one
        would be (the hit is then not counted)."""
        if self.limit <= 0:
            return None
        now = self.clock()
        with self._lock:
            hits = self._hits.get(key)
            if hits is None:
                if len(self._hits) >= self.max_keys:
                    self._prune(now)
                while len(self._hits) >= self.max_keys:
                    # Still full of live keys: forget the least recently seen.
                    self._hits.popitem(last=False)
                hits = self._hits[key] = deque()
            else:
                self._hits.move_to_end(key)
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return max(1.0, hits[0] + self.window - now)
            hits.append(now)
            return None

    def __len__(self) -> int:
        """How many keys are counted now."""
        return len(self._hits)

    def _prune(self, now: float) -> None:
        for key in [k for k, v in self._hits.items() if not v or v[-1] <= now - self.window]:
            del self._hits[key]

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()


_state_lock = threading.Lock()


def csrf_for(request: Request) -> Csrf:
    """This application's :class:`Csrf`, keyed with its settings' secret key."""
    state = request.app.state
    with _state_lock:
        csrf = getattr(state, "page_csrf", None)
        if csrf is None:
            settings = state.container.settings
            csrf = state.page_csrf = Csrf(settings.secret_key, previous=settings.previous_secret_key)
    return csrf


def limiter_for(request: Request) -> Limiter:
    """This application's objection rate limiter: shared by all workers on PostgreSQL, in
    memory on SQLite (tests may set ``app.state.objection_limiter``)."""
    state = request.app.state
    with _state_lock:
        limiter = getattr(state, "objection_limiter", None)
        if limiter is None:
            container = state.container
            limit, window = container.settings.objection_rate_limit, container.settings.objection_rate_window
            if container.settings.is_sqlite:
                limiter = SlidingWindowLimiter(limit=limit, window=window)
            else:
                from .shared_limiter import SharedWindowLimiter

                limiter = SharedWindowLimiter(container.engine, limit, window)
            state.objection_limiter = limiter
    return limiter


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def secure_headers(response: Response, *, no_store: bool = False) -> Response:
    """Headers of every public page: no script, no framing, no sniffing, no referrer leak."""
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"
    if no_store:
        response.headers["Cache-Control"] = "no-store"
    return response


__all__ = ["Csrf", "CsrfError", "Limiter", "SlidingWindowLimiter", "csrf_for", "limiter_for",
           "client_address", "secure_headers", "CSRF_COOKIE", "CSRF_FIELD"]

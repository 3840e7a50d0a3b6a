"""The staff workbench's session (工作台会话): a signed cookie naming who signed in.

The cookie ``staff_session`` holds the username, role, credit code (an applicant's host unit, an
expert's affiliation), the account's token version and when it was issued, signed with
HMAC-SHA256 under a key derived from the service's secret key (``PLATFORMS_SECRET_KEY``) with a
label of its own, so it can never be mistaken for a CSRF token or a bearer token. It is
``HttpOnly``, ``SameSite=Strict``, ``Secure`` over HTTPS, scoped to ``/staff``, and lasts as long
as a bearer token (``PLATFORMS_TOKEN_MINUTES``).

A good signature is not enough, as for a bearer token (:mod:`api.deps`): every request asks the
account (:meth:`api.users.UserRepository.accepts`) whether it still exists, is enabled and
still has that token version, so disabling it or changing its password ends the session at once.

While ``PLATFORMS_PREVIOUS_SECRET_KEY`` is set (a rotation of the secret key), a cookie signed
under the previous key is still read; new ones are signed under the current key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable

from fastapi import Request
from starlette.responses import Response

from aggregates.values import Role

from .auth import Principal
from .users import LOGIN_ROLES, User

SESSION_COOKIE = "staff_session"
SESSION_PATH = "/staff"


class Sessions:
    """Issue and read the signed session cookie (see the module docstring)."""

    def __init__(self, secret_key: str, max_age: int, clock: Callable[[], float] = time.time,
                 previous: str = "") -> None:
        self._keys = [hmac.new(secret.encode("utf-8"), b"platform-registry staff session v1", hashlib.sha256).digest()
                      for secret in (secret_key, previous) if secret]
        self.max_age = max_age
        self.clock = clock

    def _sign(self, payload: str, key: bytes | None = None) -> str:
        return hmac.new(key or self._keys[0], payload.encode("ascii"), hashlib.sha256).hexdigest()

    def issue(self, user: User) -> str:
        body = json.dumps({"u": user.username, "r": user.role.value, "c": user.credit_code,
                           "v": user.token_version, "t": int(self.clock())}, separators=(",", ":"))
        payload = base64.urlsafe_b64encode(body.encode("utf-8")).decode("ascii").rstrip("=")
        return f"{payload}.{self._sign(payload)}"

    def read(self, value: str | None) -> Principal | None:
        """The principal a cookie names, or None when it is missing, forged or expired."""
        if not value or len(value) > 2000 or value.count(".") != 1:
            return None
        payload, signature = value.split(".")
        try:
            if not any(hmac.compare_digest(signature, self._sign(payload, key)) for key in self._keys):
                return None
            claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            issued, version = claims["t"], claims["v"]
            if type(issued) is not int or type(version) is not int:
                return None
            age = self.clock() - issued
            if age < -60 or age > self.max_age:
                return None
            return Principal(actor_id=str(claims["u"]), role=Role(claims["r"]),
                             credit_code=claims.get("c") or None, token_version=version)
        except (ValueError, KeyError, TypeError, UnicodeError):
            return None

    def set_cookie(self, request: Request, response: Response, user: User) -> None:
        response.set_cookie(SESSION_COOKIE, self.issue(user), max_age=self.max_age, path=SESSION_PATH,
                            httponly=True, samesite="strict", secure=request.url.scheme == "https")

    @staticmethod
    def clear_cookie(request: Request, response: Response) -> None:
        response.delete_cookie(SESSION_COOKIE, path=SESSION_PATH, httponly=True, samesite="strict",
                               secure=request.url.scheme == "https")


def sessions_for(request: Request) -> Sessions:
    """This application's :class:`Sessions`, keyed with its settings' secret key."""
    state = request.app.state
    sessions = getattr(state, "staff_sessions", None)
    if sessions is None:
        settings = state.container.settings
        sessions = state.staff_sessions = Sessions(settings.secret_key, settings.token_minutes * 60,
                                                        previous=settings.previous_secret_key)
    return sessions


def current_member(request: Request) -> Principal | None:
    """Who this request's session cookie names, if the account still accepts it."""
    principal = sessions_for(request).read(request.cookies.get(SESSION_COOKIE))
    if principal is None or principal.role not in LOGIN_ROLES:  # the public has no workbench
        return None
    if not request.app.state.container.users.accepts(principal.actor_id, principal.token_version):
        return None
    request.state.actor = principal.actor_id  # for the request's log line (api.logging)
    return principal


__all__ = ["SESSION_COOKIE", "Sessions", "current_member", "sessions_for"]

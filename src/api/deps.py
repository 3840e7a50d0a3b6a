"""FastAPI dependencies shared by every router: the container, the caller, role checks.

They are ``async def`` on purpose: none of them blocks for long (a JWT check is microseconds of
CPU, the account check one indexed row of the event store's database), and
FastAPI runs a plain ``def`` dependency on the thread pool, so each would cost every request a
thread hand-off and a turn at the GIL.

``require_roles(Role.BUREAU, ...)`` answers 401 without a (valid) token and 403 for a role that
may not make the request (docs/API.md, "Authentication").
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request
from fastapi.security import OAuth2PasswordBearer

from aggregates.values import Role

from .auth import PUBLIC, InvalidToken, Principal, read_token
from .bootstrap import Container
from .errors import ProblemException

TOKEN_URL = "/api/v1/auth/token"
oauth2_scheme = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False)


async def get_container(request: Request) -> Container:
    """The wired container of this application instance."""
    return request.app.state.container


def _unauthorized(detail: str, reason_zh: str) -> ProblemException:
    return ProblemException(401, "unauthorized", detail, headers={"WWW-Authenticate": "Bearer"},
                            params={"reason": reason_zh})


def _principal(request: Request, container: Container, token: str | None) -> Principal | None:
    """The caller if a valid token was sent, None without one; a bad token is still a 401
    (a client that sends credentials should learn they are wrong, not be treated as public).
    The caller's name goes on the request's log line (:class:`api.logging.RequestLog`)."""
    if not token:
        return None
    try:
        principal = read_token(container.settings.secret_key, token, container.settings.previous_secret_key)
    except InvalidToken:
        raise _unauthorized("the access token is invalid or has expired", "访问令牌无效或已过期") from None
    if not container.users.accepts(principal.actor_id, principal.token_version):
        raise _unauthorized("the access token was revoked (the account was disabled or its password "
                            "changed); sign in again", "访问令牌已被撤销（账号已停用或密码已更改），请重新登录")
    request.state.actor = principal.actor_id
    return principal


class _PublicOrPrincipal(OAuth2PasswordBearer):
    """The caller, or the anonymous public: the bearer scheme itself, so that a route open to
    anyone (the public objection) solves one dependency for its caller, not the scheme and a
    dependency on it (FastAPI's solving of each costs the event loop on every request). The
    OpenAPI document is the same: the same scheme, under the same name."""

    async def __call__(self, request: Request) -> Principal:  # type: ignore[override]
        token = await super().__call__(request)
        return _principal(request, request.app.state.container, token) or PUBLIC


public_or_principal = _PublicOrPrincipal(tokenUrl=TOKEN_URL, scheme_name=oauth2_scheme.scheme_name, auto_error=False)


class _RolesRequired(OAuth2PasswordBearer):
    """The caller, admitted only in one of ``roles``: the bearer scheme itself, like
    :data:`public_or_principal`, so that a signed-in route solves one dependency for its caller
    rather than a role check and the scheme beneath it (issue 17: FastAPI's solving of each level
    costs the event loop on every request). The OpenAPI document is the same: the same scheme,
    under the same name; ``roles`` is read by the document's ``x-roles`` and the workbench."""

    def __init__(self, roles: frozenset[Role]) -> None:
        super().__init__(tokenUrl=TOKEN_URL, scheme_name=oauth2_scheme.scheme_name, auto_error=False)
        self.roles = roles
        self.names = ", ".join(sorted(r.value for r in roles))
        self.__name__ = f"require_{'_or_'.join(sorted(r.value for r in roles))}"

    async def __call__(self, request: Request) -> Principal:  # type: ignore[override]
        principal = _principal(request, request.app.state.container, await super().__call__(request))
        if principal is None:
            raise _unauthorized("sign in first: send Authorization: Bearer <token>",
                                "请先登录：发送 Authorization: Bearer <令牌>")
        if principal.role not in self.roles:
            raise ProblemException(403, "forbidden", f"this request needs the role {self.names}; "
                                   f"you are signed in as {principal.role.value}",
                                   params={"roles": self.names, "role": principal.role.value})
        return principal


def require_roles(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency admitting only ``roles`` (401 without a token, 403 for another role)."""
    return _RolesRequired(frozenset(roles))


__all__ = ["get_container", "public_or_principal", "require_roles"]

"""``POST /auth/token``: the OAuth2 password flow (docs/API.md, "Authentication")."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.security import OAuth2PasswordRequestForm

from . import schema_examples as ex
from .auth import issue_token
from .bootstrap import Container
from .deps import get_container
from .errors import ProblemException, problem_responses
from .schemas import Token
from .sign_in import sign_in

router = APIRouter()


class SignInForm(OAuth2PasswordRequestForm):
    """The OAuth2 password form (RFC 6749 §4.3) with the same fields and rules as FastAPI's,
    described for the OpenAPI document."""

    def __init__(
        self, *,
        grant_type: Annotated[str | None, Form(
            pattern="^password$", description="授权类型 `password`, or omitted", examples=["password"])] = None,
        username: Annotated[str, Form(description="用户名 The account's name (`platforms users add`)",
                                      examples=[ex.SIGN_IN["username"]])],
        password: Annotated[str, Form(json_schema_extra={"format": "password"}, description="密码 The account's "
                                      "password", examples=[ex.SIGN_IN["password"]])],
        scope: Annotated[str, Form(description="权限范围 Not used: the role of the account decides (empty)",
                                   examples=[""])] = "",
        client_id: Annotated[str | None, Form(description="客户端编号 Not used (OAuth2 client authentication)",
                                              examples=[None])] = None,
        client_secret: Annotated[str | None, Form(json_schema_extra={"format": "password"}, description="客户端密钥 "
                                                  "Not used (OAuth2 client authentication)", examples=[None])] = None,
    ) -> None:
        super().__init__(grant_type=grant_type, username=username, password=password, scope=scope,
                         client_id=client_id, client_secret=client_secret)


def _locked(seconds: int) -> ProblemException:
    return ProblemException(429, "too_many_login_attempts",
                            f"too many wrong passwords for this account or from this address; try again in "
                            f"{seconds} seconds", headers={"Retry-After": str(seconds)}, params={"seconds": seconds})


@router.post("/auth/token", response_model=Token, responses=problem_responses(401, 422, 429),
             summary="Sign in (登录, OAuth2 password flow)",
             openapi_extra={"requestBody": {"content": {"application/x-www-form-urlencoded": {"example": ex.SIGN_IN}}}})
def token(form: Annotated[SignInForm, Depends()], request: Request,
          c: Annotated[Container, Depends(get_container)]) -> Token:
    """登录 Exchange a username and password for a signed bearer token that expires.

    **Who**: any account (applicant, service agency, expert, bureau, finance, auditor). Too many
    wrong passwords for one account or from one client address lock further attempts for a while
    (429 with `Retry-After`), the right password included. **Answers** 200 with `access_token`,
    `token_type` `bearer`, `expires_in` (seconds) and `role`; 401 `invalid_credentials` for a wrong
    username or password."""
    address = request.client.host if request.client else "unknown"
    result = sign_in(c.users, c.throttle, form.username, form.password, address)
    if result.locked_for:
        raise _locked(result.locked_for)
    user = result.user
    if user is None:
        raise ProblemException(401, "invalid_credentials", "wrong username or password",
                               headers={"WWW-Authenticate": "Bearer"})
    access, lifetime = issue_token(c.settings.secret_key, user.username, user.role, user.credit_code,
                                   c.settings.token_minutes, version=user.token_version)
    return Token(access_token=access, expires_in=lifetime, role=user.role.value)
